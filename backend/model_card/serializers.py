"""The shadow comparison's and the re-analysis' shapes in the admin API."""

from rest_framework import serializers

from deployments.serializers import DeploymentSerializer

# One request re-queues at most this many studies: a larger re-analysis goes in several.
REANALYSE_MAX_STUDIES = 500


class ComparisonFiguresSerializer(serializers.Serializer):
    compared = serializers.IntegerField(help_text="Findings compared (per finding: its studies).")
    agreement_with_active = serializers.FloatField(
        allow_null=True, help_text="Share with the active model's verdict (above/below threshold)."
    )
    mean_absolute_difference = serializers.FloatField(
        allow_null=True,
        help_text="Mean absolute difference of the candidate's and the active model's probabilities.",
    )
    clinician_answers = serializers.IntegerField(help_text="Clinicians' agree/disagree answers on them.")
    agreement_with_clinicians = serializers.FloatField(
        allow_null=True, help_text="Share of those answers whose implied verdict is the candidate's."
    )


class FindingComparisonSerializer(ComparisonFiguresSerializer):
    label = serializers.CharField()


class ShadowComparisonSerializer(serializers.Serializer):
    deployment = DeploymentSerializer()
    studies = serializers.IntegerField(help_text="Live studies the candidate ran on in shadow.")
    overall = ComparisonFiguresSerializer()
    findings = FindingComparisonSerializer(many=True)


class ReanalyseSerializer(serializers.Serializer):
    study_ids = serializers.ListField(
        child=serializers.UUIDField(), min_length=1, max_length=REANALYSE_MAX_STUDIES
    )


class ReanalysedSerializer(serializers.Serializer):
    queued = serializers.ListField(
        child=serializers.UUIDField(), help_text="The studies queued (finished radiograph studies only)."
    )
