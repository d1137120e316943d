from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from studies.models import Finding, Study, StudyStatus


class StudyCreateSerializer(serializers.Serializer):
    image = serializers.FileField(help_text="A chest radiograph: PNG or JPEG, 8- or 16-bit.")


class StudyCreatedSerializer(serializers.ModelSerializer):
    cached = serializers.BooleanField(source="from_cache", help_text="Answered from the result cache.")

    class Meta:
        model = Study
        fields = ["id", "status", "cached"]


class StudySummarySerializer(serializers.ModelSerializer):
    cached = serializers.BooleanField(source="from_cache")

    class Meta:
        model = Study
        fields = ["id", "status", "created_at", "finished_at", "original_filename", "cached", "message"]


class FindingSerializer(serializers.ModelSerializer):
    heatmap = serializers.SerializerMethodField()

    class Meta:
        model = Finding
        fields = ["label", "probability", "threshold", "positive", "heatmap"]

    def get_heatmap(self, finding: Finding) -> str:
        return reverse("study-heatmap", kwargs={"study_id": finding.study_id, "label": finding.label})


class ModelSummarySerializer(serializers.Serializer):
    name = serializers.CharField()
    version = serializers.CharField()
    weights_sha256 = serializers.CharField(allow_null=True)
    trained = serializers.BooleanField()


class StudyDetailSerializer(StudySummarySerializer):
    image = serializers.SerializerMethodField()
    model = serializers.SerializerMethodField()
    findings = FindingSerializer(many=True)

    class Meta(StudySummarySerializer.Meta):
        fields = [*StudySummarySerializer.Meta.fields, "image", "width", "height", "model", "findings"]

    def get_image(self, study: Study) -> str:
        return reverse("study-image", kwargs={"study_id": study.id})

    @extend_schema_field(ModelSummarySerializer(allow_null=True))
    def get_model(self, study: Study) -> dict[str, Any] | None:
        if not study.model_card:
            return None
        return ModelSummarySerializer(study.model_card).data


class StudyListQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=StudyStatus.choices, required=False)
