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


class CTSummarySerializer(serializers.Serializer):
    """A CT study's result on the worklist: the patient's probability against its threshold."""

    status = serializers.ChoiceField(choices=StudyStatus.choices)
    patient_probability = serializers.FloatField(allow_null=True)
    threshold = serializers.FloatField(allow_null=True)
    positive = serializers.BooleanField(allow_null=True)
    trained = serializers.BooleanField(allow_null=True, help_text="False: the CT model is untrained.")


def ct_run_result(study: Study) -> tuple[Any, CTResult | None]:
    """The study's CT run (from its prefetched runs) and its typed result, (None, None) without one."""
    run = next((run for run in study.analyser_runs.all() if run.kind == CT_KIND), None)
    if run is None:
        return None, None
    # The result is read as ml's CTResult, so its fields are named in one place (ml.ct.analyser).
    result = analyser_run_result(run)
    return run, result if isinstance(result, CTResult) else None


def ct_summary_of(study: Study) -> dict[str, Any] | None:
    run, ct = ct_run_result(study)
    if run is None:
        return None
    return CTSummarySerializer(
        {
            "status": run.status,
            "patient_probability": ct.patient_probability if ct else None,
            "threshold": ct.threshold if ct else None,
            "positive": ct.positive if ct else None,
            "trained": run.card.get("trained") if run.card else None,
        }
    ).data


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
    run, ct = ct_run_result(study)
    if run is None:
        return None
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
