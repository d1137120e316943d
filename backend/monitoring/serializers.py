from django.conf import settings
from rest_framework import serializers

from deployments.models import ModelVersion
from monitoring.models import AcceptanceRun, AcceptanceSource, DriftSnapshot


class AcceptanceRunInputSerializer(serializers.Serializer):
    source = serializers.ChoiceField(choices=AcceptanceSource.choices, default=AcceptanceSource.UPLOAD)
    images = serializers.FileField(
        required=False, help_text="A zip of the set's radiographs (PNG, JPEG or DICOM); source=upload"
    )
    labels = serializers.FileField(
        required=False,
        help_text="The labels CSV the evaluator reads (NIH's layout, or image then 0/1 per finding)",
    )
    targets = serializers.CharField(
        max_length=500, help_text="The site's targets, e.g. auroc=0.80,sensitivity=0.90,refusal_rate=0.05"
    )
    threshold_rule = serializers.CharField(
        max_length=64,
        default="youden",
        help_text="How the site's thresholds are chosen: sensitivity:0.9, f1, youden",
    )
    model_version = serializers.PrimaryKeyRelatedField(
        queryset=ModelVersion.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text="Installed weights to accept (a candidate); omitted: the active model",
    )

    def validate_images(self, value):  # noqa: ANN001, ANN201 (DRF's hook)
        if value.size > settings.CXR_ACCEPTANCE_MAX_ZIP_BYTES:
            raise serializers.ValidationError(
                f"The zip is over {settings.CXR_ACCEPTANCE_MAX_ZIP_BYTES >> 20} MiB."
            )
        return value


class AcceptanceRunSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", read_only=True)
    result = serializers.JSONField(
        read_only=True,
        help_text="Per finding: AUROC and CI, sensitivity and specificity at the card's threshold, "
        "calibration and ECE, ROC points, the rule's threshold; the set's refusal rate and the verdict",
    )
    model_card = serializers.JSONField(read_only=True)
    model_version = serializers.PrimaryKeyRelatedField(
        read_only=True,
        allow_null=True,
        help_text="The installed weights accepted; null: the active model then",
    )
    model = serializers.SerializerMethodField(help_text="The model the run accepts, in words")

    class Meta:
        model = AcceptanceRun
        fields = [
            "id",
            "status",
            "message",
            "source",
            "targets",
            "threshold_rule",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
            "model_version",
            "model",
            "model_card",
            "result",
        ]
        read_only_fields = fields

    def get_model(self, run: AcceptanceRun) -> str:
        if run.model_version is not None:
            return f"{run.model_version.name} {run.model_version.version}"
        if run.model_card:
            return f"{run.model_card['name']} {run.model_card['version']} (active)"
        return "the active model"


class AcceptanceRunSummarySerializer(AcceptanceRunSerializer):
    accepted = serializers.SerializerMethodField()

    class Meta(AcceptanceRunSerializer.Meta):
        fields = [f for f in AcceptanceRunSerializer.Meta.fields if f not in ("result", "model_card")]
        fields += ["accepted"]
        read_only_fields = fields

    def get_accepted(self, run: AcceptanceRun) -> bool | None:
        return (run.result or {}).get("acceptance", {}).get("accepted")


class DriftSnapshotSerializer(serializers.ModelSerializer):
    baseline = serializers.IntegerField(
        source="baseline_id",
        read_only=True,
        allow_null=True,
        help_text="The acceptance run compared with (null: none of these weights yet)",
    )
    findings = serializers.JSONField(
        read_only=True,
        help_text="Per finding: studies, psi, ks_statistic, ks_p_value, above_threshold, agreement, "
        "histograms",
    )
    reasons = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = DriftSnapshot
        fields = [
            "day",
            "model_name",
            "model_version",
            "baseline",
            "studies",
            "refused",
            "refusal_rate",
            "findings",
            "drifted",
            "reasons",
            "computed_at",
        ]
        read_only_fields = fields


class DriftThresholdsSerializer(serializers.Serializer):
    psi = serializers.FloatField()
    ks_p_value = serializers.FloatField()
    refusal_rate = serializers.FloatField()
    min_studies = serializers.IntegerField()


class DriftSerializer(serializers.Serializer):
    model_name = serializers.CharField()
    model_version = serializers.CharField()
    trained = serializers.BooleanField()
    thresholds = DriftThresholdsSerializer()
    snapshots = DriftSnapshotSerializer(many=True)
