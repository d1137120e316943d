"""The audit log: what is recorded, from which address, who may read it, and that it never changes."""

import datetime

import numpy as np
import pytest
from django.contrib.admin.sites import site as admin_site
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.test import RequestFactory
from django.utils import timezone
from rest_framework.test import APIClient

from audit.client_address import client_address
from audit.models import AuditAction, AuditEvent, AuditLogImmutableError
from audit.services import audit_record
from ml.images.rendering import heatmap_png
from tests.factories import PASSWORD, StudyFactory, add_findings
from tests.test_auth import assert_error_shape

pytestmark = pytest.mark.django_db


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def sign_in(username: str, password: str, **extra) -> int:
    return (
        APIClient()
        .post("/api/auth/token/", {"username": username, "password": password}, format="json", **extra)
        .status_code
    )


def test_sign_in_is_recorded_with_the_user_and_address(clinician):
    assert sign_in(clinician.username, PASSWORD, REMOTE_ADDR="10.1.2.3") == 200
    [event] = events(AuditAction.SIGN_IN)
    assert (event.actor, event.actor_username, event.ip_address) == (
        clinician,
        clinician.username,
        "10.1.2.3",
    )


def test_failed_sign_in_is_recorded_with_the_attempted_username_and_no_actor(clinician):
    assert sign_in(clinician.username, "wrong", REMOTE_ADDR="10.9.9.9") == 401
    assert sign_in("nobody-here", "whatever") == 401
    failed = events(AuditAction.SIGN_IN_FAILED)
    assert [(event.actor, event.actor_username) for event in failed] == [
        (None, clinician.username),
        (None, "nobody-here"),
    ]
    assert failed[0].ip_address == "10.9.9.9"
    assert events(AuditAction.SIGN_IN) == []


def test_sign_in_of_a_deactivated_user_is_a_recorded_failure(clinician):
    clinician.is_active = False
    clinician.save()
    assert sign_in(clinician.username, PASSWORD) == 401
    assert [event.actor_username for event in events(AuditAction.SIGN_IN_FAILED)] == [clinician.username]


@pytest.mark.parametrize(
    ("trusted_proxies", "forwarded_for", "expected"),
    [
        (0, "203.0.113.7", "192.0.2.1"),  # no proxy trusted: the header is ignored
        (1, "203.0.113.7", "203.0.113.7"),  # behind nginx: its entry is the client
        (1, "6.6.6.6, 203.0.113.7", "203.0.113.7"),  # a forged entry on the left is ignored
        (2, "203.0.113.7, 198.51.100.2", "203.0.113.7"),  # two proxies
        (2, "203.0.113.7", "192.0.2.1"),  # fewer hops than proxies: trust only the peer
        (1, "not-an-address", "192.0.2.1"),
    ],
)
def test_client_address_trusts_forwarded_for_only_through_configured_proxies(
    settings, trusted_proxies, forwarded_for, expected
):
    settings.CXR_TRUSTED_PROXY_COUNT = trusted_proxies
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR=forwarded_for)
    assert client_address(request) == expected


def test_upload_view_and_downloads_are_recorded(clinician, client_for, upload, radiograph_bytes):
    client = client_for(clinician)
    study_id = upload(client, radiograph_bytes).json()["id"]
    client.get(f"/api/studies/{study_id}/")
    client.get(f"/api/studies/{study_id}/image/")
    recorded = [
        (event.action, event.actor, event.target_type, event.target_id) for event in AuditEvent.objects.all()
    ]
    assert set(recorded) == {
        (AuditAction.STUDY_UPLOAD, clinician, "study", study_id),
        (AuditAction.STUDY_VIEW, clinician, "study", study_id),
        (AuditAction.IMAGE_DOWNLOAD, clinician, "study", study_id),
    }
    assert events(AuditAction.STUDY_UPLOAD)[0].detail == {"filename": "chest.png", "cached": False}


def test_heatmap_download_is_recorded_with_its_finding(clinician, client_for):
    # A study analysed before heatmaps were kept small: its rendered PNG is served as it is.
    study = StudyFactory(owner=clinician)
    add_findings(study, {"Effusion": 0.7})
    ramp = np.tile(np.linspace(0.0, 1.0, 64, dtype=np.float32), (64, 1))
    rendered = heatmap_png(ramp)
    path = default_storage.save(f"studies/{study.id}/heatmaps/Effusion.png", ContentFile(rendered))
    study.findings.update(legacy_heatmap_file=path)
    response = client_for(clinician).get(f"/api/studies/{study.id}/heatmaps/Effusion/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == rendered
    [event] = events(AuditAction.HEATMAP_DOWNLOAD)
    assert (event.target_id, event.detail) == (str(study.id), {"position": 0, "label": "Effusion"})


def test_polling_a_study_records_one_view_per_window(clinician, client_for):
    study = StudyFactory(owner=clinician, status="queued")
    client = client_for(clinician)
    for _ in range(5):
        assert client.get(f"/api/studies/{study.id}/").status_code == 200
    assert len(events(AuditAction.STUDY_VIEW)) == 1


def test_refused_access_to_another_users_study_records_no_view(clinician, other_clinician, client_for):
    study = StudyFactory(owner=clinician)
    assert_error_shape(client_for(other_clinician).get(f"/api/studies/{study.id}/"), 404)
    assert events(AuditAction.STUDY_VIEW) == []


def test_admin_user_management_is_recorded(admin_user, clinician, client_for):
    client = client_for(admin_user)
    client.post("/api/users/", {"username": "dr.new", "password": "a-long-unusual-passphrase"}, format="json")
    client.patch(f"/api/users/{clinician.pk}/", {"is_active": False}, format="json")
    client.post(
        f"/api/users/{clinician.pk}/password/", {"password": "another-long-passphrase"}, format="json"
    )
    assert [(event.action, event.actor) for event in AuditEvent.objects.order_by("id")] == [
        (AuditAction.USER_CREATE, admin_user),
        (AuditAction.USER_UPDATE, admin_user),
        (AuditAction.PASSWORD_RESET, admin_user),
    ]
    assert events(AuditAction.USER_UPDATE)[0].detail == {"username": clinician.username, "is_active": False}


def test_only_admins_read_the_audit_log(clinician, client_for):
    assert_error_shape(client_for(clinician).get("/api/audit/"), 403)
    assert_error_shape(APIClient().get("/api/audit/"), 401)


def test_audit_log_lists_newest_first_with_who_what_when_and_where(admin_user, clinician, client_for):
    sign_in(clinician.username, "wrong", REMOTE_ADDR="10.0.0.5")
    sign_in(clinician.username, PASSWORD, REMOTE_ADDR="10.0.0.5")
    body = client_for(admin_user).get("/api/audit/").json()
    assert body["count"] == 2
    newest, oldest = body["results"]
    assert (newest["action"], newest["actor"], newest["actor_username"]) == (
        "sign_in",
        clinician.pk,
        clinician.username,
    )
    assert (oldest["action"], oldest["actor"]) == ("sign_in_failed", None)
    assert newest["ip_address"] == "10.0.0.5"
    assert set(newest) == {
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
    }


def test_an_event_on_a_user_names_them_and_one_on_a_study_names_no_user(admin_user, clinician, client_for):
    audit_record(action=AuditAction.USER_UPDATE, actor=admin_user, target_type="user", target_id=clinician.pk)
    audit_record(
        action=AuditAction.STUDY_VIEW, actor=admin_user, target_type="study", target_id=str(clinician.pk)
    )
    study_event, user_event = client_for(admin_user).get("/api/audit/").json()["results"]
    assert (user_event["target_type"], user_event["target_username"]) == ("user", clinician.username)
    assert (study_event["target_type"], study_event["target_username"]) == ("study", None)


def test_audit_log_filters_by_actor_action_target_and_day(admin_user, clinician, other_clinician, client_for):
    audit_record(action=AuditAction.STUDY_VIEW, actor=clinician, target_type="study", target_id="s-1")
    audit_record(action=AuditAction.STUDY_VIEW, actor=other_clinician, target_type="study", target_id="s-2")
    audit_record(action=AuditAction.FEEDBACK, actor=clinician, target_type="study", target_id="s-2")
    client = client_for(admin_user)

    def actions(query: str) -> list[tuple[str, str]]:
        response = client.get(f"/api/audit/?{query}")
        assert response.status_code == 200, response.content
        return [(event["actor_username"], event["action"]) for event in response.json()["results"]]

    assert actions(f"actor={clinician.username.upper()}") == [
        (clinician.username, "feedback"),
        (clinician.username, "study_view"),
    ]
    assert actions("action=study_view") == [
        (other_clinician.username, "study_view"),
        (clinician.username, "study_view"),
    ]
    assert actions("target_id=s-2&action=feedback") == [(clinician.username, "feedback")]
    today = timezone.now().date()
    assert len(actions(f"created_after={today}&created_before={today}")) == 3
    assert actions(f"created_before={today - datetime.timedelta(days=1)}") == []


@pytest.mark.parametrize(
    "query",
    ["action=delete_everything", "created_after=soon", "created_after=2025-02-02&created_before=2025-02-01"],
)
def test_bad_audit_query_is_400(admin_user, client_for, query):
    assert_error_shape(client_for(admin_user).get(f"/api/audit/?{query}"), 400)


def test_audit_events_cannot_be_changed_or_deleted_by_the_application(clinician):
    event = audit_record(action=AuditAction.SIGN_IN, actor=clinician)
    event.action = AuditAction.SIGN_IN_FAILED
    with pytest.raises(AuditLogImmutableError):
        event.save()
    with pytest.raises(AuditLogImmutableError):
        event.delete()
    with pytest.raises(AuditLogImmutableError):
        AuditEvent.objects.filter(pk=event.pk).update(action=AuditAction.SIGN_IN_FAILED)
    with pytest.raises(AuditLogImmutableError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get(pk=event.pk).action == AuditAction.SIGN_IN


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_auditevent SET action = 'x'", "DELETE FROM audit_auditevent"]
)
def test_postgresql_refuses_raw_updates_and_deletes_of_audit_events(clinician, statement):
    audit_record(action=AuditAction.SIGN_IN, actor=clinician)
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)
    assert AuditEvent.objects.count() == 1


def test_django_admin_offers_no_way_to_add_change_or_delete_audit_events(admin_user):
    model_admin = admin_site._registry[AuditEvent]
    request = RequestFactory().get("/admin/audit/auditevent/")
    request.user = admin_user
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


def test_a_user_with_audit_events_cannot_be_deleted(clinician):
    from django.db.models import ProtectedError

    audit_record(action=AuditAction.SIGN_IN, actor=clinician)
    with pytest.raises(ProtectedError):
        clinician.delete()
