from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ml.classifier.explanations.explanation import METHODS
from studies.models import Explanation, StudyStatus

NOT_REQUESTED = "not_requested"


class ExplanationModelSerializer(serializers.Serializer):
    name = serializers.CharField()
    version = serializers.CharField()
    trained = serializers.BooleanField()


class ExplanationSerializer(serializers.Serializer):
    """One method's explanation of a finding, and how faithful its map is."""

    method = serializers.ChoiceField(choices=METHODS)
    label = serializers.CharField()
    status = serializers.ChoiceField(
        choices=[NOT_REQUESTED, *StudyStatus.values],
        help_text="not_requested until someone asks (POST); then queued, running, done or failed.",
    )
    message = serializers.CharField(help_text="Why it failed, if it did.")
    deletion_auc = serializers.FloatField(
        allow_null=True,
        help_text="Area under the probability curve as the map's top pixels are removed (blurred): "
        "lower is better.",
    )
    insertion_auc = serializers.FloatField(
        allow_null=True,
        help_text="Area under the probability curve as they are revealed in that order: higher is better.",
    )
    parameters = serializers.DictField(
        help_text="The settings the method and the faithfulness curves ran with."
    )
    seconds = serializers.FloatField(
        allow_null=True, help_text="Time the worker took for the map and its scores."
    )
    model = ExplanationModelSerializer(allow_null=True, source="model_card")
    image = serializers.SerializerMethodField(help_text="The map as an RGBA PNG overlay, once done.")
    requested_at = serializers.DateTimeField(allow_null=True, source="enqueued_at")
    finished_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_image(self, explanation: Explanation) -> str | None:
        if explanation.status != StudyStatus.DONE:
            return None
        kwargs = {"study_id": explanation.study_id, "label": explanation.label, "method": explanation.method}
        return reverse("study-explanation-image", kwargs=kwargs)


def not_requested(*, study_id: Any, label: str, method: str) -> Explanation:
    """An unsaved row standing for an explanation nobody has asked for yet."""
    return Explanation(
        study_id=study_id, label=label, method=method, status=NOT_REQUESTED, enqueued_at=None, parameters={}
    )
