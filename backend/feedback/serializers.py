from rest_framework import serializers

from feedback.models import NOTE_MAX_LENGTH, FindingFeedback, Verdict


class FindingFeedbackSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = FindingFeedback
        fields = ["label", "verdict", "note", "username", "created_at", "updated_at"]
        read_only_fields = fields


class FindingFeedbackInputSerializer(serializers.Serializer):
    verdict = serializers.ChoiceField(choices=Verdict.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=NOTE_MAX_LENGTH)
