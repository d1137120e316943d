"""Hospital sign-in by LDAP against a real directory (Debian's slapd, its own process): the token
endpoint binds as the user, reads the role from the directory's groups, escapes what is typed,
never sends an empty password, keeps local accounts first, and answers 503 when the directory is down."""

import os
import signal
import subprocess
import sys
import time

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import authenticate
from rest_framework.test import APIClient

from accounts.ldap.directory import directory_authenticate
from accounts.ldap.users import LDAP_ISSUER
from accounts.models import ExternalIdentity, User
from audit.models import AuditAction, AuditEvent
from tests.hospital_directory import (
    ADMINS,
    CLINICIANS,
    PASSWORD,
    PEOPLE,
    SERVICE_DN,
    SERVICE_PASSWORD,
    hospital_directory,
    person_dn,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def directory(tmp_path):
    with hospital_directory(folder=tmp_path / "directory") as started:
        yield started


def configure(settings, directory, mode: str) -> None:
    """Sign-in through the directory, its user found by a search with the service account, or named
    by a DN template (bound as the user, who reads their own entry and groups)."""
    settings.CXR_LDAP_URL = directory.url
    settings.CXR_LDAP_CLINICIAN_GROUPS = [CLINICIANS]
    settings.CXR_LDAP_ADMIN_GROUPS = [ADMINS]
    settings.CXR_LDAP_TIMEOUT_SECONDS = 3
    if mode == "search":
        settings.CXR_LDAP_USER_SEARCH_BASE = PEOPLE
        settings.CXR_LDAP_SERVICE_BIND_DN = SERVICE_DN
        settings.CXR_LDAP_SERVICE_BIND_PASSWORD = SERVICE_PASSWORD
    else:
        settings.CXR_LDAP_BIND_DN_TEMPLATE = f"uid={{username}},{PEOPLE}"


@pytest.fixture(params=["search", "template"])
def directory_sign_in(request, settings, directory):
    configure(settings, directory, request.param)
    return directory


def sign_in(username: str, password: str = PASSWORD):
    return APIClient().post("/api/auth/token/", {"username": username, "password": password}, format="json")


def signed_in_as(answer) -> dict:
    assert answer.status_code == 200, answer.content
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {answer.json()['access']}")
    return client.get("/api/auth/me/").json()


def failures_for(username: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=AuditAction.SIGN_IN_FAILED, actor_username=username))


@pytest.mark.parametrize(("username", "role"), [("dr.house", "clinician"), ("it.lead", "admin")])
def test_directory_users_sign_in_with_the_role_of_their_group(directory_sign_in, username, role):
    me = signed_in_as(sign_in(username))

    assert (me["username"], me["role"], me["email"]) == (username, role, f"{username}@hospital.example")
    user = User.objects.get(username=username)
    # No password of the service's own: the directory's is the only one.
    assert not user.has_usable_password()
    assert ExternalIdentity.objects.get(user=user).issuer == LDAP_ISSUER
    event = AuditEvent.objects.get(action=AuditAction.SIGN_IN, actor=user)
    assert event.detail == {"method": "ldap"}


def test_the_user_name_as_typed_in_another_case_signs_in_the_same_user(directory_sign_in):
    first = signed_in_as(sign_in("dr.house"))

    again = signed_in_as(sign_in("DR.House"))

    assert again["id"] == first["id"] and again["username"] == "dr.house"
    assert User.objects.count() == 1


def test_a_wrong_directory_password_is_401_audited_and_makes_no_user(directory_sign_in):
    answer = sign_in("dr.house", "not-the-passphrase")

    assert answer.status_code == 401, answer.content
    assert not User.objects.exists()
    assert len(failures_for("dr.house")) == 1


def test_wrong_directory_passwords_count_toward_the_sign_in_throttle(directory_sign_in, settings):
    settings.CXR_SIGN_IN_FAILURES_PER_USERNAME = "2/min"

    statuses = [sign_in("dr.house", "not-the-passphrase").status_code for _ in range(2)]

    assert statuses == [401, 401]
    # The limit holds for the right password too, until the window ends.
    assert sign_in("dr.house").status_code == 429


def test_an_empty_password_never_reaches_the_directory_which_takes_it_as_anonymous(directory_sign_in):
    # The test directory answers a DN with an empty password as a successful anonymous bind, as
    # many do: sent, it would "prove" any user's identity.
    whoami = subprocess.run(
        ["ldapwhoami", "-x", "-H", directory_sign_in.url, "-D", person_dn("dr.house"), "-w", ""],
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert whoami.returncode == 0 and whoami.stdout.strip() == "anonymous", whoami

    assert directory_authenticate(username="dr.house", password="") is None
    assert authenticate(username="dr.house", password="") is None
    for password in ("", "   "):
        assert sign_in("dr.house", password).status_code == 400
    assert not User.objects.exists()


@pytest.mark.parametrize("typed", ["dr.h*", "*", "dr.house)(uid=*", "dr.house,ou=people", "dr.house\\2a"])
def test_ldap_syntax_in_the_user_name_matches_only_itself(directory_sign_in, typed):
    # Unescaped, "dr.h*" would find dr.house's entry, and his password would sign in "dr.h*".
    answer = sign_in(typed)

    assert answer.status_code == 401, answer.content
    assert not User.objects.exists()
    assert len(failures_for(typed)) == 1


def test_a_directory_user_in_no_group_of_the_service_is_refused_with_403(directory_sign_in):
    answer = sign_in("radiographer")

    assert answer.status_code == 403, answer.content
    assert "none of the groups" in answer.json()["message"]
    assert not User.objects.exists()
    (failure,) = failures_for("radiographer")
    assert failure.detail["method"] == "ldap" and failure.detail["status"] == 403


def test_a_role_changed_in_the_directory_applies_at_the_next_sign_in(directory_sign_in):
    assert signed_in_as(sign_in("dr.house"))["role"] == "clinician"

    directory_sign_in.modify(
        f"dn: {ADMINS}\nchangetype: modify\nadd: member\nmember: {person_dn('dr.house')}\n"
    )
    assert signed_in_as(sign_in("dr.house"))["role"] == "admin"

    directory_sign_in.modify(
        f"dn: {ADMINS}\nchangetype: modify\ndelete: member\nmember: {person_dn('dr.house')}\n\n"
        f"dn: {CLINICIANS}\nchangetype: modify\ndelete: member\nmember: {person_dn('dr.house')}\n"
    )
    assert sign_in("dr.house").status_code == 403
    assert User.objects.get(username="dr.house").role == "admin"  # unchanged: refused, not demoted


def test_a_user_deactivated_in_the_service_is_refused_though_the_directory_takes_the_password(
    directory_sign_in,
):
    signed_in_as(sign_in("dr.house"))
    User.objects.filter(username="dr.house").update(is_active=False)

    answer = sign_in("dr.house")

    assert answer.status_code == 403, answer.content
    assert "deactivated" in answer.json()["message"]
    assert len(failures_for("dr.house")) == 1


def test_a_stopped_directory_answers_503_and_keeps_no_place_under_the_throttle(directory_sign_in, settings):
    settings.CXR_SIGN_IN_FAILURES_PER_USERNAME = "2/min"
    directory_sign_in.stop()

    answers = [sign_in("dr.house") for _ in range(3)]

    assert [answer.status_code for answer in answers] == [503, 503, 503]
    assert "directory cannot be reached" in answers[0].json()["message"]
    assert all(failure.detail["status"] == 503 for failure in failures_for("dr.house"))


def test_a_directory_that_hangs_answers_503_within_the_timeout(directory_sign_in, settings):
    settings.CXR_LDAP_TIMEOUT_SECONDS = 1
    # Frozen, the directory's port still accepts connections (the kernel's backlog), but nothing answers.
    os.kill(directory_sign_in.service.process.pid, signal.SIGSTOP)

    def hung(signum: int, frame: object) -> None:
        raise TimeoutError("sign-in waited on the frozen directory: no timeout")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(30)  # the test's own bound, should the service have none
    try:
        started = time.monotonic()
        answer = sign_in("dr.house")
        waited = time.monotonic() - started
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        os.kill(directory_sign_in.service.process.pid, signal.SIGCONT)

    assert answer.status_code == 503, answer.content
    # One timeout per step at most (the service account's bind, then the search): nowhere near a hang.
    assert waited < 10, waited


def test_local_accounts_sign_in_first_and_keep_working_when_the_directory_is_down(directory_sign_in):
    # The break-glass admin shares a name with a directory entry: only the local password opens it.
    User.objects.create_user("it.lead", password="local-break-glass-8890", is_staff=True)

    assert sign_in("it.lead", PASSWORD).status_code == 401
    directory_sign_in.stop()
    answer = sign_in("it.lead", "local-break-glass-8890")

    assert signed_in_as(answer)["role"] == "admin"
    assert AuditEvent.objects.get(action=AuditAction.SIGN_IN).detail == {}
    assert not ExternalIdentity.objects.exists()


def test_a_local_account_without_a_password_is_never_taken_over_by_a_directory_entry(directory_sign_in):
    local = User.objects.create_user("dr.house")  # no usable password, e.g. a hospital OIDC user

    answer = sign_in("dr.house")

    assert answer.status_code == 409, answer.content
    assert not ExternalIdentity.objects.filter(user=local).exists()


def test_a_refused_service_account_answers_503_for_the_configuration_not_401(directory, settings):
    configure(settings, directory, "search")
    settings.CXR_LDAP_SERVICE_BIND_PASSWORD = "not-the-service-passphrase"

    answer = sign_in("dr.house")

    assert answer.status_code == 503, answer.content
    assert "CXR_LDAP_SERVICE_BIND_DN" in answer.json()["extra"]["reason"]


def test_directory_users_cannot_sign_in_while_ldap_is_off(directory, settings):
    settings.CXR_LDAP_URL = ""

    assert sign_in("dr.house").status_code == 401


@pytest.fixture
def directory_with_tls(tmp_path):
    with hospital_directory(folder=tmp_path / "directory", with_tls=True) as started:
        yield started


@pytest.mark.parametrize("transport", ["starttls", "ldaps"])
def test_sign_in_over_tls_verifies_the_directory_certificate_against_the_ca_file(
    directory_with_tls, settings, transport
):
    configure(settings, directory_with_tls, "search")
    if transport == "ldaps":
        settings.CXR_LDAP_URL = directory_with_tls.ldaps_url
    settings.CXR_LDAP_START_TLS = transport == "starttls"
    settings.CXR_LDAP_CA_FILE = str(directory_with_tls.certificate)

    assert signed_in_as(sign_in("dr.house"))["role"] == "clinician"

    # The same directory, its certificate trusted by nobody the service knows: no password is sent.
    settings.CXR_LDAP_CA_FILE = ""
    answer = sign_in("dr.cuddy")
    assert answer.status_code == 503, answer.content
    assert "CERTIFICATE_VERIFY_FAILED" in answer.json()["extra"]["error"]
    assert not User.objects.filter(username="dr.cuddy").exists()

    # Trusted, but reached by a name the certificate does not carry (it names 127.0.0.1 alone).
    settings.CXR_LDAP_CA_FILE = str(directory_with_tls.certificate)
    settings.CXR_LDAP_URL = settings.CXR_LDAP_URL.replace("127.0.0.1", "localhost")
    answer = sign_in("dr.cuddy")
    assert answer.status_code == 503, answer.content
    assert "doesn't match" in answer.json()["extra"]["error"]


GOOD_SETTINGS = {
    "CXR_LDAP_URL": "ldaps://ldap.hospital.example",
    "CXR_LDAP_USER_SEARCH_BASE": PEOPLE,
    "CXR_LDAP_CLINICIAN_GROUPS": f"{CLINICIANS};{ADMINS}",
}


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        ({}, None),
        ({"CXR_LDAP_URL": "http://ldap.hospital.example"}, "must start with ldap:// or ldaps://"),
        ({"CXR_LDAP_START_TLS": "true"}, "CXR_LDAP_START_TLS is for ldap:// URLs"),
        ({"CXR_LDAP_BIND_DN_TEMPLATE": f"uid={{username}},{PEOPLE}"}, "Set one of"),
        ({"CXR_LDAP_USER_SEARCH_BASE": ""}, "Set one of"),
        ({"CXR_LDAP_USER_FILTER": "(uid=dr.house)"}, "must hold {username}"),
        ({"CXR_LDAP_CLINICIAN_GROUPS": " ; "}, "needs CXR_LDAP_ADMIN_GROUPS or CXR_LDAP_CLINICIAN_GROUPS"),
    ],
)
def test_the_settings_refuse_an_ldap_configuration_that_cannot_work(tmp_path, change, refusal):
    environment = {**os.environ, "CXR_VAR_DIR": str(tmp_path), **GOOD_SETTINGS, **change}
    started = subprocess.run(
        [sys.executable, "-c", "import config.settings as s; print(s.CXR_LDAP_CLINICIAN_GROUPS)"],
        cwd=django_settings.BACKEND_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )

    if refusal is None:
        assert started.returncode == 0, started.stderr
        assert started.stdout.strip() == repr([CLINICIANS, ADMINS])
    else:
        assert started.returncode != 0 and "ImproperlyConfigured" in started.stderr
        assert refusal in started.stderr
