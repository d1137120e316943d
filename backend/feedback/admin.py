from django.contrib import admin

from feedback.models import FindingFeedback


@admin.register(FindingFeedback)
class FindingFeedbackAdmin(admin.ModelAdmin):
    list_display = ["study", "label", "user", "verdict", "updated_at"]
    list_filter = ["verdict", "label"]
    readonly_fields = [field.name for field in FindingFeedback._meta.fields]
