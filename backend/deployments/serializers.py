"""How the deployments read in the admin API, and what its writes take."""

import json
from typing import Any

from rest_framework import serializers

from deployments.models import Deployment, DeploymentState, ModelVersion, ThresholdProfileRecord

# A profile file holds 14 thresholds and the evidence behind them: a few kilobytes.
PROFILE_MAX_BYTES = 256 * 1024


class ModelVersionSerializer(serializers.ModelSerializer):
    weights_sha256 = serializers.CharField(allow_null=True, source="weights_sha256_or_none")

    class Meta:
        model = ModelVersion
        fields = ["id", "name", "version", "trained", "weights_dir", "weights_sha256", "installed_at"]


class ServerWeightsSerializer(serializers.Serializer):
    """A weights folder under CXR_WEIGHTS_ROOT, as the Model versions page offers it."""

    weights_dir = serializers.CharField()
    name = serializers.CharField(source="card.name", allow_null=True, default=None)
    version = serializers.CharField(source="card.version", allow_null=True, default=None)
    trained = serializers.BooleanField(source="card.trained", allow_null=True, default=None)
    weights_sha256 = serializers.CharField(source="card.weights_sha256", allow_null=True, default=None)
    error = serializers.CharField(help_text="Why the folder does not read as weights; empty when it does.")
    installed = serializers.BooleanField()


class ServerWeightsInstallSerializer(serializers.Serializer):
    weights_dir = serializers.CharField(max_length=1024, help_text="One of the folders the list offers.")


class ThresholdProfileSerializer(serializers.ModelSerializer):
    identity = serializers.CharField()
    thresholds = serializers.SerializerMethodField()
    installed_by = serializers.CharField(allow_null=True, source="installed_by.username", default=None)

    class Meta:
        model = ThresholdProfileRecord
        fields = [
            "id",
            "identity",
            "name",
            "version",
            "weights_sha256",
            "model",
            "rule",
            "thresholds",
            "installed_at",
            "installed_by",
        ]

    def get_thresholds(self, profile: ThresholdProfileRecord) -> dict[str, float]:
        return dict(profile.document["thresholds"])


class DeploymentSerializer(serializers.ModelSerializer):
    model_version = ModelVersionSerializer()
    profile = ThresholdProfileSerializer(allow_null=True)

    class Meta:
        model = Deployment
        fields = ["id", "model_version", "profile"]


class DeploymentsOverviewSerializer(serializers.Serializer):
    """What analyses now (``active``), what runs beside it (``shadow``), what a rollback returns to
    (``previous``), and everything installed."""

    active = DeploymentSerializer()
    shadow = DeploymentSerializer(allow_null=True)
    previous = DeploymentSerializer(allow_null=True)
    versions = ModelVersionSerializer(many=True)
    profiles = ThresholdProfileSerializer(many=True)


def overview_of(
    state: DeploymentState, versions: list[ModelVersion], profiles: list[ThresholdProfileRecord]
) -> dict[str, Any]:
    return DeploymentsOverviewSerializer(
        {
            "active": state.active,
            "shadow": state.shadow,
            "previous": state.previous,
            "versions": versions,
            "profiles": profiles,
        }
    ).data


class ProfileUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The JSON file `python -m ml evaluate --profile-out` wrote.")

    def validate_file(self, upload: Any) -> Any:
        if upload.size > PROFILE_MAX_BYTES:
            raise serializers.ValidationError(f"A threshold profile is at most {PROFILE_MAX_BYTES} bytes.")
        try:
            return json.loads(upload.read().decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise serializers.ValidationError(f"Not JSON: {error}") from error


class ProfileActivateSerializer(serializers.Serializer):
    profile = serializers.PrimaryKeyRelatedField(
        queryset=ThresholdProfileRecord.objects.all(),
        allow_null=True,
        help_text="The installed profile's id; null: the card's own thresholds.",
    )


class ShadowStartSerializer(serializers.Serializer):
    model_version = serializers.PrimaryKeyRelatedField(
        queryset=ModelVersion.objects.all(), help_text="The installed weights' id."
    )
    profile = serializers.PrimaryKeyRelatedField(
        queryset=ThresholdProfileRecord.objects.all(),
        allow_null=True,
        required=False,
        default=None,
        help_text="A profile for those weights; null: their card's thresholds.",
    )
