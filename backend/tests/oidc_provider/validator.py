from typing import Any

from oauth2_provider.oauth2_validators import OAuth2Validator


class HospitalValidator(OAuth2Validator):
    """ID tokens carry the user's name, e-mail and directory groups, as a hospital's provider's do."""

    oidc_claim_scope = {**OAuth2Validator.oidc_claim_scope, "groups": "profile"}

    def get_additional_claims(self, request: Any) -> dict[str, Any]:
        user = request.user
        claims: dict[str, Any] = {
            "preferred_username": user.username,
            "email": user.email,
            "given_name": user.first_name,
            "family_name": user.last_name,
        }
        groups = sorted(user.groups.values_list("name", flat=True))
        # A user in no group has no groups claim at all, as directories leave it out.
        if groups:
            claims["groups"] = groups
        return claims
