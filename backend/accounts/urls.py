from django.urls import path
from rest_framework_simplejwt.views import TokenBlacklistView, TokenRefreshView

from accounts.oidc.views import OidcAuthorizeView, OidcCallbackView, OidcConfigView
from accounts.views import (
    AuditedTokenObtainPairView,
    MeView,
    UserDetailView,
    UserListCreateView,
    UserPasswordView,
)

auth_urlpatterns = [
    path("token/", AuditedTokenObtainPairView.as_view(), name="token-obtain"),
    path("token/refresh/", TokenRefreshView.as_view(), name="token-refresh"),
    path("token/blacklist/", TokenBlacklistView.as_view(), name="token-blacklist"),
    path("me/", MeView.as_view(), name="me"),
    path("oidc/", OidcConfigView.as_view(), name="oidc-config"),
    path("oidc/authorize/", OidcAuthorizeView.as_view(), name="oidc-authorize"),
    path("oidc/callback/", OidcCallbackView.as_view(), name="oidc-callback"),
]

user_urlpatterns = [
    path("", UserListCreateView.as_view(), name="user-list"),
    path("<int:pk>/", UserDetailView.as_view(), name="user-detail"),
    path("<int:pk>/password/", UserPasswordView.as_view(), name="user-password"),
]
