"""The health answer's shape, for the OpenAPI schema (the checks build plain dicts)."""

from rest_framework import serializers


class CheckSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    detail = serializers.CharField(required=False)


class DatabaseCheckSerializer(CheckSerializer):
    engine = serializers.CharField()


class CacheCheckSerializer(CheckSerializer):
    backend = serializers.CharField(required=False)


class BrokerCheckSerializer(CheckSerializer):
    queue = serializers.CharField(required=False)


class ModelCheckSerializer(CheckSerializer):
    name = serializers.CharField(required=False)
    version = serializers.CharField(required=False)
    trained = serializers.BooleanField(required=False)
    weights_sha256 = serializers.CharField(required=False, allow_null=True)


class HealthChecksSerializer(serializers.Serializer):
    database = DatabaseCheckSerializer()
    cache = CacheCheckSerializer()
    broker = BrokerCheckSerializer()
    model = ModelCheckSerializer()


class HealthSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["ok", "degraded"])
    checks = HealthChecksSerializer()
