from rest_framework import serializers


class OidcConfigSerializer(serializers.Serializer):
    enabled = serializers.BooleanField(help_text="Whether hospital sign-in (OpenID Connect) is configured.")
    provider_name = serializers.CharField(help_text='Whom the button names: "Sign in with <provider_name>".')


class OidcCallbackSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=2048, help_text="The authorization code the provider sent back.")
    state = serializers.CharField(max_length=256, help_text="The state the provider sent back with it.")


class OidcSignedInSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()
    end_session_url = serializers.CharField(
        allow_null=True,
        help_text="Where the browser goes after signing out, to end its session at the provider too (null: "
        "the provider offers no RP-initiated logout).",
    )
