"""How the model's and the analysers' cards read in the API: a study shows the card that analysed
it, and the model card page (model_card app, above studies) the active ones."""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


class FindingValidationSerializer(serializers.Serializer):
    """One finding's figures on the validation set; null where validation had no positives."""

    positives = serializers.IntegerField()
    negatives = serializers.IntegerField()
    auroc = serializers.FloatField(allow_null=True)
    auroc_ci95 = serializers.ListField(
        child=serializers.FloatField(), allow_null=True, help_text="[low, high]"
    )
    threshold = serializers.FloatField()
    threshold_from = serializers.ChoiceField(
        choices=["validation", "default"], help_text="Chosen on validation, or the default (no positives)."
    )
    sensitivity = serializers.FloatField(allow_null=True)
    specificity = serializers.FloatField(allow_null=True)
    ppv = serializers.FloatField(allow_null=True)
    f1 = serializers.FloatField(allow_null=True)


class BestEpochSerializer(serializers.Serializer):
    stage = serializers.CharField()
    epoch = serializers.IntegerField()
    val_mean_auroc = serializers.FloatField(allow_null=True)


class ModelValidationSerializer(serializers.Serializer):
    """The card's validation figures, as the card schema (ml/cards/card.schema.json) defines them."""

    split = serializers.JSONField(help_text="How the validation set was drawn (by patient, fraction, seed).")
    images = serializers.IntegerField()
    patients = serializers.IntegerField()
    mean_auroc = serializers.FloatField(allow_null=True)
    mean_auroc_ci95 = serializers.ListField(child=serializers.FloatField(), allow_null=True)
    threshold_method = serializers.CharField()
    best_epoch = BestEpochSerializer(allow_null=True)
    findings = serializers.DictField(child=FindingValidationSerializer(), help_text="Per finding label.")


class ModelCardSerializer(serializers.Serializer):
    """The active model's card (see ml/README.md), as the web process reads it, without TensorFlow."""

    name = serializers.CharField()
    version = serializers.CharField()
    trained = serializers.BooleanField()
    labels = serializers.ListField(child=serializers.CharField())
    thresholds = serializers.DictField(
        child=serializers.FloatField(), help_text="Operating threshold per label."
    )
    input_size = serializers.IntegerField()
    input_channels = serializers.IntegerField()
    preprocessing = serializers.JSONField()
    weights_sha256 = serializers.CharField(allow_null=True)
    training_data = serializers.CharField(allow_null=True)
    validation = ModelValidationSerializer(allow_null=True)


class FindingAgreementSerializer(serializers.Serializer):
    label = serializers.CharField()
    agree = serializers.IntegerField()
    disagree = serializers.IntegerField()
    unsure = serializers.IntegerField()
    answered = serializers.IntegerField()
    agreement_rate = serializers.FloatField(
        allow_null=True, help_text="agree / (agree + disagree); null before any such answer."
    )


class ModelAgreementSerializer(serializers.Serializer):
    name = serializers.CharField()
    version = serializers.CharField()
    findings = FindingAgreementSerializer(many=True)


class AnalyserCardSerializer(serializers.Serializer):
    """An analyser's card as the result was made (each analyser has its own weights and flag)."""

    kind = serializers.CharField()
    name = serializers.CharField()
    version = serializers.CharField()
    trained = serializers.BooleanField(
        help_text="False: seeded untrained weights, whose outputs mean nothing."
    )
    architecture = serializers.SerializerMethodField(
        help_text="The network in words, with its parameters where the card has some."
    )
    weights_sha256 = serializers.CharField(allow_null=True, default=None)
    training_data = serializers.CharField(allow_null=True, default=None)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_architecture(self, card: dict[str, Any]) -> str | None:
        """A name, or (segmentation) ``{"name", ...parameters}`` in words, never a Python dict."""
        architecture = card.get("architecture")
        if not isinstance(architecture, dict):
            return architecture
        parameters = "; ".join(
            f"{key.replace('_', ' ')} {', '.join(map(str, value)) if isinstance(value, list) else value}"
            for key, value in architecture.items()
            if key != "name"
        )
        name = str(architecture.get("name", ""))
        return f"{name} ({parameters})" if parameters else name


class ThresholdProfileSummarySerializer(serializers.Serializer):
    """The site threshold profile a result was judged under (deployments); null: the card's own."""

    identity = serializers.CharField(help_text="name-vN")
    name = serializers.CharField()
    version = serializers.IntegerField()
    rule = serializers.CharField(help_text="The rule that chose the thresholds on the site's cases.")
    weights_sha256 = serializers.CharField()
