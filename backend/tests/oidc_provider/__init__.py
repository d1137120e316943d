"""A real OpenID provider for the tests: a small Django project of django-oauth-toolkit with OpenID
Connect, PKCE required and RP-initiated logout, run as its own process (serve.py) with its own
database, users, groups and login page, as a hospital's Keycloak or ADFS would be."""
