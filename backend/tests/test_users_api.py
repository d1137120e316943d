"""Admin endpoints: admins manage users; clinicians are refused with 403."""

import pytest

from accounts.models import User
from tests.test_auth import assert_error_shape

pytestmark = pytest.mark.django_db


def test_clinician_calling_admin_endpoint_is_403(clinician, client_for):
    assert_error_shape(client_for(clinician).get("/api/users/"), 403)
    assert_error_shape(client_for(clinician).post("/api/users/", {"username": "x"}, format="json"), 403)


def test_admin_lists_users_with_roles(admin_user, clinician, client_for):
    response = client_for(admin_user).get("/api/users/")
    assert response.status_code == 200
    roles = {user["username"]: user["role"] for user in response.json()["results"]}
    assert roles == {admin_user.username: "admin", clinician.username: "clinician"}


def test_admin_creates_a_clinician_who_can_sign_in(admin_user, client_for):
    response = client_for(admin_user).post(
        "/api/users/",
        {"username": "dr.who", "password": "a-long-unusual-passphrase", "role": "clinician"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["role"] == "clinician"
    token = client_for(admin_user).post(
        "/api/auth/token/", {"username": "dr.who", "password": "a-long-unusual-passphrase"}, format="json"
    )
    assert token.status_code == 200


def test_weak_password_is_refused_and_no_user_is_created(admin_user, client_for):
    response = client_for(admin_user).post(
        "/api/users/", {"username": "weak", "password": "123"}, format="json"
    )
    assert_error_shape(response, 400)
    assert not User.objects.filter(username="weak").exists()


def test_duplicate_username_is_refused(admin_user, clinician, client_for):
    response = client_for(admin_user).post(
        "/api/users/",
        {"username": clinician.username.upper(), "password": "a-long-unusual-passphrase"},
        format="json",
    )
    assert_error_shape(response, 400)


def test_admin_deactivates_and_promotes_a_user(admin_user, clinician, client_for):
    client = client_for(admin_user)
    assert (
        client.patch(f"/api/users/{clinician.pk}/", {"is_active": False}, format="json").json()["is_active"]
        is False
    )
    assert (
        client.patch(f"/api/users/{clinician.pk}/", {"role": "admin"}, format="json").json()["role"]
        == "admin"
    )


def test_admin_cannot_deactivate_themselves(admin_user, client_for):
    response = client_for(admin_user).patch(
        f"/api/users/{admin_user.pk}/", {"is_active": False}, format="json"
    )
    assert_error_shape(response, 403)
    admin_user.refresh_from_db()
    assert admin_user.is_active
