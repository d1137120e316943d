"""Hospital sign-in by OpenID Connect against a real provider (django-oauth-toolkit, its own
process): the authorization code flow with PKCE, the ID token's signature and nonce, the role from
the groups claim, and sign-out at the provider."""

import time
from urllib.parse import parse_qs, urlsplit

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey
from rest_framework.test import APIClient

from accounts.models import ExternalIdentity, User
from accounts.oidc.flow import FLOW_COOKIE, SignInFlow, flow_cookie_value, id_token_claims
from accounts.oidc.provider import provider_keys
from audit.models import AuditAction, AuditEvent
from common.errors import DomainError
from tests.hospital_provider import DirectoryBrowser, hospital_provider

pytestmark = pytest.mark.django_db

REDIRECT_URI = "http://testserver/sign-in/callback"
POST_LOGOUT_REDIRECT_URI = "http://testserver/sign-in"


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    with hospital_provider(
        folder=tmp_path_factory.mktemp("oidc-provider"),
        redirect_uri=REDIRECT_URI,
        post_logout_redirect_uri=POST_LOGOUT_REDIRECT_URI,
    ) as started:
        yield started


@pytest.fixture
def hospital_sign_in(settings, provider):
    settings.CXR_OIDC_ISSUER = provider.issuer
    settings.CXR_OIDC_CLIENT_ID = provider.client_id
    settings.CXR_OIDC_CLIENT_SECRET = provider.client_secret
    settings.CXR_OIDC_REDIRECT_URI = REDIRECT_URI
    settings.CXR_OIDC_POST_LOGOUT_REDIRECT_URI = POST_LOGOUT_REDIRECT_URI
    settings.CXR_OIDC_PROVIDER_NAME = "St Elsewhere"
    return provider


def start(client: APIClient) -> str:
    answer = client.get("/api/auth/oidc/authorize/")
    assert answer.status_code == 302, answer.content
    return answer["Location"]


def sign_in(client: APIClient, browser: DirectoryBrowser, username: str):
    callback = browser.sign_in(start(client), username=username, redirect_uri=REDIRECT_URI)
    return client.post("/api/auth/oidc/callback/", callback, format="json")


def flow_of(client: APIClient) -> SignInFlow:
    from django.core import signing

    return SignInFlow(**signing.loads(client.cookies[FLOW_COOKIE].value, salt="accounts.oidc.flow"))


def test_a_clinician_signs_in_at_the_provider_and_gets_the_services_own_tokens(hospital_sign_in):
    client, browser = APIClient(), DirectoryBrowser()
    authorize = start(client)
    query = parse_qs(urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]
    assert authorize.startswith(f"{hospital_sign_in.issuer}/authorize/")
    callback = browser.sign_in(authorize, username="dr.grey", redirect_uri=REDIRECT_URI)

    answer = client.post("/api/auth/oidc/callback/", callback, format="json")

    assert answer.status_code == 200, answer.content
    me = APIClient()
    me.credentials(HTTP_AUTHORIZATION=f"Bearer {answer.json()['access']}")
    signed_in = me.get("/api/auth/me/").json()
    assert (signed_in["username"], signed_in["role"]) == ("dr.grey", "clinician")
    user = User.objects.get(username="dr.grey")
    assert not user.has_usable_password() and user.email == "dr.grey@hospital.example"
    assert ExternalIdentity.objects.get(user=user).issuer == hospital_sign_in.issuer
    event = AuditEvent.objects.filter(action=AuditAction.SIGN_IN).get()
    assert (event.actor, event.detail) == (user, {"method": "oidc", "role": "clinician"})
    refreshed = APIClient().post(
        "/api/auth/token/refresh/", {"refresh": answer.json()["refresh"]}, format="json"
    )
    assert refreshed.status_code == 200


def test_the_admin_group_makes_an_admin_and_a_second_sign_in_finds_the_same_user(hospital_sign_in):
    for _ in range(2):
        answer = sign_in(APIClient(), DirectoryBrowser(), "it.chief")
        assert answer.status_code == 200, answer.content
    assert User.objects.get(username="it.chief").role == "admin"
    assert ExternalIdentity.objects.count() == 1


def test_a_directory_user_with_no_role_in_the_service_is_refused_with_a_clear_error(hospital_sign_in):
    answer = sign_in(APIClient(), DirectoryBrowser(), "radiographer")
    assert answer.status_code == 403
    assert answer.json() == {
        "message": 'Your hospital account has no role in this service: its "groups" claim has none of '
        "cxr-clinician, cxr-admin. Ask your IT department to give you one.",
        "extra": {"claim": "groups", "accepted": ["cxr-clinician", "cxr-admin"]},
    }
    assert not User.objects.filter(username="radiographer").exists()
    assert AuditEvent.objects.filter(action=AuditAction.SIGN_IN_FAILED).count() == 1


def test_a_directory_user_without_the_role_claim_is_refused_with_a_clear_error(hospital_sign_in):
    answer = sign_in(APIClient(), DirectoryBrowser(), "visitor")
    assert answer.status_code == 403
    assert answer.json()["message"].startswith('Your hospital account carries no "groups" claim')
    assert not User.objects.filter(username="visitor").exists()


def test_a_role_claim_nested_in_the_token_is_read_by_its_dotted_path(hospital_sign_in, settings):
    from accounts.oidc.roles import role_from_claims

    settings.CXR_OIDC_ROLE_CLAIM = "realm_access.roles"
    assert role_from_claims({"realm_access": {"roles": ["offline_access", "cxr-admin"]}}) == "admin"


def test_an_answer_with_another_state_is_refused(hospital_sign_in):
    client, browser = APIClient(), DirectoryBrowser()
    callback = browser.sign_in(start(client), username="dr.grey", redirect_uri=REDIRECT_URI)
    answer = client.post(
        "/api/auth/oidc/callback/", {**callback, "state": "x" + callback["state"]}, format="json"
    )
    assert answer.status_code == 400
    assert answer.json()["extra"] == {"reason": "state_mismatch"}
    assert not User.objects.filter(username="dr.grey").exists()


def test_an_answer_brought_to_another_browser_is_refused(hospital_sign_in):
    callback = DirectoryBrowser().sign_in(start(APIClient()), username="dr.grey", redirect_uri=REDIRECT_URI)
    answer = APIClient().post("/api/auth/oidc/callback/", callback, format="json")
    assert answer.status_code == 400
    assert answer.json()["extra"] == {"reason": "no_flow"}


def test_the_provider_refuses_the_code_without_the_flows_pkce_verifier(hospital_sign_in):
    client, browser = APIClient(), DirectoryBrowser()
    callback = browser.sign_in(start(client), username="dr.grey", redirect_uri=REDIRECT_URI)
    flow = flow_of(client)
    # The same flow, but another verifier than the one whose challenge the provider holds.
    client.cookies[FLOW_COOKIE] = flow_cookie_value(
        SignInFlow(state=flow.state, nonce=flow.nonce, code_verifier="v" * 48)
    )
    answer = client.post("/api/auth/oidc/callback/", callback, format="json")
    assert answer.status_code == 400
    assert answer.json()["extra"] == {"reason": "code_refused", "error": "invalid_grant"}


def test_an_id_token_minted_for_another_flow_is_refused_by_its_nonce(hospital_sign_in):
    client, browser = APIClient(), DirectoryBrowser()
    callback = browser.sign_in(start(client), username="dr.grey", redirect_uri=REDIRECT_URI)
    flow = flow_of(client)
    client.cookies[FLOW_COOKIE] = flow_cookie_value(
        SignInFlow(state=flow.state, nonce="another-flows-nonce", code_verifier=flow.code_verifier)
    )
    answer = client.post("/api/auth/oidc/callback/", callback, format="json")
    assert answer.status_code == 401
    assert answer.json()["extra"] == {"reason": "nonce_mismatch"}
    assert not User.objects.filter(username="dr.grey").exists()


def test_an_id_token_not_signed_by_the_providers_key_is_refused(hospital_sign_in):
    [provider_key] = provider_keys().keys
    forger = RSAKey.generate_key(2048, parameters={"kid": provider_key.kid})
    now = int(time.time())
    claims = {
        "iss": hospital_sign_in.issuer,
        "aud": hospital_sign_in.client_id,
        "sub": "1",
        "iat": now,
        "exp": now + 300,
        "nonce": "n",
        "groups": ["cxr-admin"],
        "preferred_username": "mallory",
    }
    forged = jwt.encode({"alg": "RS256", "kid": provider_key.kid}, claims, forger)
    with pytest.raises(DomainError) as refused:
        id_token_claims(forged, nonce="n")
    assert (refused.value.status_code, refused.value.extra) == (401, {"reason": "bad_signature"})


def test_signing_out_ends_the_session_at_the_provider(hospital_sign_in):
    browser = DirectoryBrowser()
    answer = sign_in(APIClient(), browser, "dr.grey")
    # While the provider's session lasts, the next sign-in needs no password.
    assert isinstance(browser.follow_until(start(APIClient()), stop_at=REDIRECT_URI), str)

    back = browser.follow_until(answer.json()["end_session_url"], stop_at=POST_LOGOUT_REDIRECT_URI)

    assert back == POST_LOGOUT_REDIRECT_URI
    page = browser.follow_until(start(APIClient()), stop_at=REDIRECT_URI)
    assert not isinstance(page, str) and "Hospital directory" in page.text


def test_hospital_sign_in_is_off_unless_configured():
    assert APIClient().get("/api/auth/oidc/").json() == {"enabled": False, "provider_name": "your hospital"}
    assert APIClient().get("/api/auth/oidc/authorize/").status_code == 404
    assert (
        APIClient().post("/api/auth/oidc/callback/", {"code": "c", "state": "s"}, format="json").status_code
        == 404
    )


def test_a_hospital_account_cannot_sign_in_with_a_password_and_local_admins_still_can(
    hospital_sign_in, admin_user
):
    assert sign_in(APIClient(), DirectoryBrowser(), "dr.grey").status_code == 200
    guess = APIClient().post("/api/auth/token/", {"username": "dr.grey", "password": ""}, format="json")
    assert guess.status_code in (400, 401)
    admin_user.set_password("a long local passphrase")
    admin_user.save()
    local = APIClient().post(
        "/api/auth/token/",
        {"username": admin_user.username, "password": "a long local passphrase"},
        format="json",
    )
    assert local.status_code == 200


def test_a_deactivated_hospital_user_is_refused_although_the_provider_signs_them_in(hospital_sign_in):
    assert sign_in(APIClient(), DirectoryBrowser(), "dr.grey").status_code == 200
    User.objects.filter(username="dr.grey").update(is_active=False)
    answer = sign_in(APIClient(), DirectoryBrowser(), "dr.grey")
    assert answer.status_code == 403
    assert answer.json()["message"] == "Your account in this service is deactivated: ask an admin."
