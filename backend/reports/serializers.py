from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from reports.models import ClinicianReport, ReportStatus


class ReportQuerySerializer(serializers.Serializer):
    labels = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text=(
            "Comma-separated findings whose heatmaps the report shows, e.g. Cardiomegaly,Effusion. "
            "Omitted: the positive findings. Empty: no heatmaps."
        ),
    )

    def validate_labels(self, value: str) -> list[str]:
        return [label.strip() for label in value.split(",") if label.strip()]


class ReportSourceSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["finding", "analyser"])
    key = serializers.CharField(
        help_text="The finding's label or the analyser's kind; '' for the classifier."
    )


class ReportSentenceSerializer(serializers.Serializer):
    text = serializers.CharField()
    source = ReportSourceSerializer()
    kept = serializers.SerializerMethodField(help_text="Whether the report's text still holds this sentence.")

    def get_kept(self, sentence: dict) -> bool:
        return sentence["text"] in self.context.get("text", "")


class ClinicianReportSerializer(serializers.Serializer):
    version = serializers.IntegerField(help_text="0: a draft written from the results, not saved yet.")
    status = serializers.ChoiceField(choices=ReportStatus.choices)
    text = serializers.CharField(allow_blank=True)
    impression = serializers.CharField(allow_blank=True)
    sentences = serializers.SerializerMethodField()
    amendment_reason = serializers.CharField(allow_blank=True)
    edited_by = serializers.CharField(source="edited_by.username", allow_null=True)
    signed_by = serializers.CharField(source="signed_by.username", allow_null=True, default=None)
    signed_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField(allow_null=True)
    updated_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(ReportSentenceSerializer(many=True))
    def get_sentences(self, report: ClinicianReport) -> list[dict]:
        return ReportSentenceSerializer(report.sentences, many=True, context={"text": report.text}).data


class ReportSaveSerializer(serializers.Serializer):
    version = serializers.IntegerField(
        min_value=0, help_text="The version the edit was made on (0: the unsaved draft)."
    )
    # Trimmed, capped and checked for control characters by reports.validation, one message for all.
    text = serializers.CharField(allow_blank=True, trim_whitespace=False)
    impression = serializers.CharField(allow_blank=True, trim_whitespace=False)


class ReportSignSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=0, help_text="The saved draft version being signed.")


class ReportAmendSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=0, help_text="The signed version being amended.")
    reason = serializers.CharField(trim_whitespace=False, help_text="Why the signed report changes.")
