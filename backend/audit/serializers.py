from typing import Any

from rest_framework import serializers

from audit.models import AuditAction, AuditEvent


class AuditEventSerializer(serializers.ModelSerializer):
    action = serializers.ChoiceField(choices=AuditAction.choices)
    detail = serializers.JSONField()
    target_username = serializers.CharField(
        allow_null=True,
        read_only=True,
        default=None,
        help_text="The username of the user an event is about (target_type user), else null.",
    )

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "created_at",
            "actor",
            "actor_username",
            "action",
            "target_type",
            "target_id",
            "target_username",
            "ip_address",
            "detail",
        ]
        read_only_fields = fields


class AuditEventQuerySerializer(serializers.Serializer):
    actor = serializers.CharField(required=False, max_length=150, help_text="Username, case-insensitive.")
    action = serializers.ChoiceField(choices=AuditAction.choices, required=False)
    target_id = serializers.CharField(required=False, max_length=64)
    created_after = serializers.DateField(required=False, help_text="From this day (UTC), included.")
    created_before = serializers.DateField(required=False, help_text="Up to this day (UTC), included.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        after, before = attrs.get("created_after"), attrs.get("created_before")
        if after and before and after > before:
            raise serializers.ValidationError({"created_after": "must not be later than created_before."})
        return attrs
