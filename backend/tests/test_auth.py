"""JWT authentication: every way a request can lack a valid token answers 401 in the error shape."""

from datetime import timedelta

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

PROTECTED = "/api/studies/"


def assert_error_shape(response, status: int) -> None:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"message", "extra"}
    assert isinstance(body["message"], str) and body["message"]


def test_request_without_token_is_401():
    assert_error_shape(APIClient().get(PROTECTED), 401)


def test_garbage_token_is_401():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not.a.jwt")
    assert_error_shape(client.get(PROTECTED), 401)


def test_expired_token_is_401(clinician):
    token = AccessToken.for_user(clinician)
    token.set_exp(lifetime=-timedelta(seconds=1))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert_error_shape(client.get(PROTECTED), 401)


def test_token_signed_with_another_key_is_401(clinician, settings):
    token = AccessToken.for_user(clinician)
    header, payload, _signature = str(token).split(".")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {header}.{payload}.c2lnbmF0dXJl")
    assert_error_shape(client.get(PROTECTED), 401)


def test_sign_in_returns_tokens_that_open_the_api(clinician):
    response = APIClient().post(
        "/api/auth/token/", {"username": clinician.username, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    me = client.get("/api/auth/me/")
    assert me.status_code == 200
    assert me.json()["username"] == clinician.username
    assert me.json()["role"] == "clinician"


def test_sign_in_with_wrong_password_is_401(clinician):
    response = APIClient().post(
        "/api/auth/token/", {"username": clinician.username, "password": "wrong"}, format="json"
    )
    assert_error_shape(response, 401)


def test_sign_in_without_fields_is_400():
    assert_error_shape(APIClient().post("/api/auth/token/", {}, format="json"), 400)


def test_refresh_rotates_and_the_used_refresh_token_stops_working(clinician):
    refresh = str(RefreshToken.for_user(clinician))
    first = APIClient().post("/api/auth/token/refresh/", {"refresh": refresh}, format="json")
    assert first.status_code == 200
    assert {"access", "refresh"} <= set(first.json())
    assert_error_shape(APIClient().post("/api/auth/token/refresh/", {"refresh": refresh}, format="json"), 401)


def test_signed_out_refresh_token_cannot_refresh(clinician):
    refresh = str(RefreshToken.for_user(clinician))
    assert (
        APIClient().post("/api/auth/token/blacklist/", {"refresh": refresh}, format="json").status_code == 200
    )
    assert_error_shape(APIClient().post("/api/auth/token/refresh/", {"refresh": refresh}, format="json"), 401)


def test_deactivated_users_access_token_stops_working_at_once(clinician, client_for):
    client = client_for(clinician)
    assert client.get(PROTECTED).status_code == 200
    clinician.is_active = False
    clinician.save()
    assert_error_shape(client.get(PROTECTED), 401)
