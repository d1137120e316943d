"""Hospital sign-in by OpenID Connect: the authorization code flow with PKCE, the ID token checked
against the provider's keys, the role read from a claim, and the service's own JWTs issued after,
so that the rest of the API does not know how a user signed in."""
