from django.contrib import admin

from studies.models import Finding, Study


class FindingInline(admin.TabularInline):
    model = Finding
    extra = 0
    readonly_fields = ["label", "probability", "threshold", "positive", "calibrated_score"]
    can_delete = False


@admin.register(Study)
class StudyAdmin(admin.ModelAdmin):
    list_display = ["id", "owner", "status", "created_at", "from_cache"]
    list_filter = ["status", "from_cache"]
    readonly_fields = [field.name for field in Study._meta.fields]
    inlines = [FindingInline]
