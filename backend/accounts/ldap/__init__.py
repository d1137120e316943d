"""Hospital sign-in by LDAP: the token endpoint's user name and password checked by a bind to the
hospital's directory, the role read from its groups (accounts.ldap.backend)."""
