"""Start the test provider: ``python -m tests.oidc_provider.serve`` from backend/.

The environment says where it listens and what it holds: OIDC_PROVIDER_PORT, OIDC_PROVIDER_HOST
(the host name in its issuer, 127.0.0.1 by default; it listens on 127.0.0.1), OIDC_PROVIDER_DATABASE
(a SQLite file), OIDC_PROVIDER_CLIENT_ID / _CLIENT_SECRET / _REDIRECT_URIS /
_POST_LOGOUT_REDIRECT_URIS (one confidential client, space-separated addresses) and
OIDC_PROVIDER_USERS (JSON: [{"username", "password", "groups": [...], "email"}]). Its signing key
is made anew at each start.
"""

import json
import os
import secrets

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def new_rsa_private_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def seed() -> None:
    from django.contrib.auth.models import Group, User
    from oauth2_provider.models import Application

    for entry in json.loads(os.environ["OIDC_PROVIDER_USERS"]):
        user = User.objects.create_user(
            entry["username"], email=entry.get("email", ""), password=entry["password"]
        )
        for name in entry.get("groups", []):
            user.groups.add(Group.objects.get_or_create(name=name)[0])
    Application.objects.create(
        name="CXR decision support",
        client_id=os.environ["OIDC_PROVIDER_CLIENT_ID"],
        client_secret=os.environ["OIDC_PROVIDER_CLIENT_SECRET"],
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=os.environ["OIDC_PROVIDER_REDIRECT_URIS"],
        post_logout_redirect_uris=os.environ.get("OIDC_PROVIDER_POST_LOGOUT_REDIRECT_URIS", ""),
        algorithm=Application.RS256_ALGORITHM,
        # The hospital approved the service for its staff: no consent page.
        skip_authorization=True,
    )


def main() -> None:
    port = int(os.environ["OIDC_PROVIDER_PORT"])
    host = os.environ.get("OIDC_PROVIDER_HOST", "127.0.0.1")
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.oidc_provider.settings"
    os.environ["OIDC_PROVIDER_ISSUER"] = f"http://{host}:{port}/o"
    os.environ["OIDC_PROVIDER_RSA_PRIVATE_KEY"] = new_rsa_private_key_pem()
    os.environ.setdefault("OIDC_PROVIDER_SECRET_KEY", secrets.token_urlsafe(32))

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    seed()
    call_command("runserver", f"127.0.0.1:{port}", use_reloader=False, use_threading=True)


if __name__ == "__main__":
    main()
