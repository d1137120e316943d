"""The admin's pages for the hospital integration: who may send images, and the filings back."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from pacs.dispatch import filings_requeue
from pacs.models import DicomSender, ReceivedImage


class AdminRoleAdmin(admin.ModelAdmin):
    """Open to the service's admin role (staff, accounts.models), not only to users given Django's
    model permissions one by one: configuring the PACS link is that role's job."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return self.has_module_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return self.has_module_permission(request)


@admin.register(DicomSender)
class DicomSenderAdmin(AdminRoleAdmin):
    list_display = ["ae_title", "account", "allowed_addresses", "is_active", "description"]
    list_filter = ["is_active"]
    search_fields = ["ae_title", "description"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self.has_module_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return self.has_module_permission(request)


@admin.register(ReceivedImage)
class ReceivedImageAdmin(AdminRoleAdmin):
    """Read-only but for sending failed filings again (as ``manage.py refile_results`` does)."""

    list_display = ["study", "protocol", "calling_ae_title", "received_at", "status", "attempts", "message"]
    list_filter = ["status", "protocol"]
    readonly_fields = [field.name for field in ReceivedImage._meta.fields if field.name != "sealed_origin"]
    exclude = ["sealed_origin"]
    actions = ["refile"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.action(description="Send the results again (failed filings)")
    def refile(self, request: HttpRequest, queryset: QuerySet[ReceivedImage]) -> None:
        requeued = filings_requeue(queryset)
        messages.info(request, f"{len(requeued)} filings queued to be sent again.")
