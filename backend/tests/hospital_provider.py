"""The test OpenID provider (tests/oidc_provider) as a process, and a user agent that signs in on
its login page the way a person's browser does: real HTTP, real redirects, real cookies."""

import json
import os
import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import requests
from django.conf import settings

from tests.deployment import Service, free_port

START_SECONDS = 60
PASSWORD = "directory-passphrase-0451"
CLIENT_ID = "cxr-decision-support"
# The directory's people: a clinician, an admin, someone with no role for the service, and someone
# whose account has no groups at all.
DIRECTORY = {
    "dr.grey": ["cxr-clinician", "cardiology"],
    "it.chief": ["cxr-admin"],
    "radiographer": ["radiographers"],
    "visitor": [],
}


@dataclass(frozen=True)
class HospitalProvider:
    issuer: str
    client_id: str
    client_secret: str
    service: Service


def discovery_answers(issuer: str) -> bool:
    try:
        return requests.get(f"{issuer}/.well-known/openid-configuration", timeout=2).status_code == 200
    except requests.RequestException:
        return False


@contextmanager
def hospital_provider(
    *, folder: Path, redirect_uri: str, post_logout_redirect_uri: str, host: str = "127.0.0.1"
) -> Iterator[HospitalProvider]:
    port = free_port()
    client_secret = secrets.token_urlsafe(24)
    users = [
        {"username": name, "password": PASSWORD, "groups": groups, "email": f"{name}@hospital.example"}
        for name, groups in DIRECTORY.items()
    ]
    env = {
        **os.environ,
        "OIDC_PROVIDER_PORT": str(port),
        "OIDC_PROVIDER_HOST": host,
        "OIDC_PROVIDER_DATABASE": str(folder / "provider.sqlite3"),
        "OIDC_PROVIDER_CLIENT_ID": CLIENT_ID,
        "OIDC_PROVIDER_CLIENT_SECRET": client_secret,
        "OIDC_PROVIDER_REDIRECT_URIS": redirect_uri,
        "OIDC_PROVIDER_POST_LOGOUT_REDIRECT_URIS": post_logout_redirect_uri,
        "OIDC_PROVIDER_USERS": json.dumps(users),
    }
    service = Service(
        "OpenID provider",
        [sys.executable, "-m", "tests.oidc_provider.serve"],
        env=env,
        cwd=settings.BACKEND_DIR,
        log=folder / "provider.log",
    )
    issuer = f"http://{host}:{port}/o"
    try:
        service.wait_for(
            lambda: discovery_answers(issuer), seconds=START_SECONDS, what="its discovery document"
        )
        yield HospitalProvider(
            issuer=issuer, client_id=CLIENT_ID, client_secret=client_secret, service=service
        )
    finally:
        service.stop()


class DirectoryBrowser:
    """A person's browser at the provider: keeps the provider's cookies (its session) between visits."""

    def __init__(self) -> None:
        self.session = requests.Session()

    def follow_until(self, url: str, *, stop_at: str) -> requests.Response | str:
        """Follows redirects from ``url``: the address that starts with ``stop_at`` (not fetched:
        the service's web app), or the page where the redirects end."""
        for _ in range(10):
            if url.startswith(stop_at):
                return url
            answer = self.session.get(url, allow_redirects=False, timeout=10)
            if answer.status_code not in (301, 302, 303, 307):
                return answer
            url = urljoin(url, answer.headers["Location"])
        raise AssertionError(f"Too many redirects from {url}")

    def sign_in(self, authorize_url: str, *, username: str, redirect_uri: str) -> dict[str, str]:
        """Goes to the provider, signs in on its login page, and returns the callback's query."""
        page = self.follow_until(authorize_url, stop_at=redirect_uri)
        assert isinstance(page, requests.Response) and "Hospital directory" in page.text, page
        answer = self.session.post(
            page.url,
            data={
                "username": username,
                "password": PASSWORD,
                "csrfmiddlewaretoken": self.session.cookies["provider_csrftoken"],
                "next": parse_qs(urlsplit(page.url).query)["next"][0],
            },
            allow_redirects=False,
            timeout=10,
        )
        assert answer.status_code == 302, answer.text
        callback = self.follow_until(urljoin(page.url, answer.headers["Location"]), stop_at=redirect_uri)
        assert isinstance(callback, str), callback
        return {name: values[0] for name, values in parse_qs(urlsplit(callback).query).items()}
