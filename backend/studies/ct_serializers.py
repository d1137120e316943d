"""How a CT study's result is shown: the patient's probability against its threshold, the rule that
pooled the slices, each slice's probability, and the strip that draws them."""

from typing import Any

from django.urls import reverse
from rest_framework import serializers

from ml.ct.analyser import CTResult
from ml.ct.card import CT_KIND
from ml.evaluation.grouping import AGGREGATION_RULES
from studies.card_serializers import AnalyserCardSerializer
from studies.models import Study, StudyStatus
from studies.selectors import analyser_run_result


class CTSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=StudyStatus.choices)
    message = serializers.CharField()
    analyser = AnalyserCardSerializer(
        allow_null=True, help_text="The CT analyser's card (its own trained flag)."
    )
    patient_probability = serializers.FloatField(
        allow_null=True, help_text="Severe (not mild) involvement for the patient: the slices pooled."
    )
    threshold = serializers.FloatField(allow_null=True)
    positive = serializers.BooleanField(allow_null=True, help_text="patient_probability >= threshold.")
    aggregation = serializers.ChoiceField(
        choices=AGGREGATION_RULES, allow_null=True, help_text="How the slices' probabilities were pooled."
    )
    slice_probabilities = serializers.ListField(
        child=serializers.FloatField(), help_text="Each slice's probability, in slice order."
    )
    strip = serializers.CharField(allow_null=True, help_text="The per-slice curve as a PNG, once done.")


def ct_of(study: Study) -> dict[str, Any] | None:
    """The CT panel's data of a CT study (None for a radiograph, or before its run exists)."""
    run = next((run for run in study.analyser_runs.all() if run.kind == CT_KIND), None)
    if run is None:
        return None
    # The result is read as ml's CTResult, so its fields are named in one place (ml.ct.analyser).
    result = analyser_run_result(run)
    ct = result if isinstance(result, CTResult) else None
    done = run.status == StudyStatus.DONE
    return CTSerializer(
        {
            "status": run.status,
            "message": run.message,
            "analyser": AnalyserCardSerializer(run.card).data if run.card else None,
            "patient_probability": ct.patient_probability if ct else None,
            "threshold": ct.threshold if ct else None,
            "positive": ct.positive if ct else None,
            "aggregation": ct.aggregation if ct else None,
            "slice_probabilities": list(ct.slice_probabilities) if ct else [],
            "strip": reverse("study-ct-strip", kwargs={"study_id": study.id}) if done else None,
        }
    ).data
