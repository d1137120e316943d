"""Admin endpoints: admins manage users; clinicians are refused with 403."""

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from tests.factories import PASSWORD
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


def sign_in_pair(username: str, password: str) -> dict:
    response = APIClient().post(
        "/api/auth/token/", {"username": username, "password": password}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()


def bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def test_password_reset_ends_the_users_sessions_at_once_and_the_new_password_works(
    admin_user, clinician, client_for
):
    tokens = sign_in_pair(clinician.username, PASSWORD)
    assert bearer(tokens["access"]).get("/api/studies/").status_code == 200

    response = client_for(admin_user).post(
        f"/api/users/{clinician.pk}/password/", {"password": "a-brand-new-passphrase"}, format="json"
    )
    assert response.status_code == 204, response.content

    assert_error_shape(bearer(tokens["access"]).get("/api/studies/"), 401)
    assert_error_shape(
        APIClient().post("/api/auth/token/refresh/", {"refresh": tokens["refresh"]}, format="json"), 401
    )
    assert_error_shape(
        APIClient().post(
            "/api/auth/token/", {"username": clinician.username, "password": PASSWORD}, format="json"
        ),
        401,
    )
    fresh = sign_in_pair(clinician.username, "a-brand-new-passphrase")
    assert bearer(fresh["access"]).get("/api/studies/").status_code == 200


def test_password_reset_refuses_a_weak_password_and_keeps_the_old_one(admin_user, clinician, client_for):
    response = client_for(admin_user).post(
        f"/api/users/{clinician.pk}/password/", {"password": "password"}, format="json"
    )
    assert_error_shape(response, 400)
    assert response.json()["extra"]["field"] == "password"
    clinician.refresh_from_db()
    assert clinician.check_password(PASSWORD)


def test_clinician_cannot_reset_passwords(clinician, other_clinician, client_for):
    response = client_for(clinician).post(
        f"/api/users/{other_clinician.pk}/password/", {"password": "a-brand-new-passphrase"}, format="json"
    )
    assert_error_shape(response, 403)


def test_password_reset_of_unknown_user_is_404(admin_user, client_for):
    response = client_for(admin_user).post(
        "/api/users/999999/password/", {"password": "a-brand-new-passphrase"}, format="json"
    )
    assert_error_shape(response, 404)


def test_deactivation_stops_the_users_access_and_refresh_tokens_at_once_and_reactivation_needs_a_new_sign_in(
    admin_user, clinician, client_for
):
    tokens = sign_in_pair(clinician.username, PASSWORD)
    client = client_for(admin_user)
    client.patch(f"/api/users/{clinician.pk}/", {"is_active": False}, format="json")

    assert_error_shape(bearer(tokens["access"]).get("/api/studies/"), 401)
    assert_error_shape(
        APIClient().post("/api/auth/token/refresh/", {"refresh": tokens["refresh"]}, format="json"), 401
    )

    client.patch(f"/api/users/{clinician.pk}/", {"is_active": True}, format="json")
    # The old refresh token stays revoked; signing in again works.
    assert_error_shape(
        APIClient().post("/api/auth/token/refresh/", {"refresh": tokens["refresh"]}, format="json"), 401
    )
    assert (
        bearer(sign_in_pair(clinician.username, PASSWORD)["access"]).get("/api/studies/").status_code == 200
    )
