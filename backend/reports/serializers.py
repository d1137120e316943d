from rest_framework import serializers


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
