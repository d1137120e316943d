from rest_framework import serializers


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
    validation = serializers.JSONField(
        allow_null=True, help_text='Validation figures as the card states them, e.g. {"auroc": {...}}.'
    )


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
