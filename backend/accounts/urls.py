from django.urls import path
from rest_framework_simplejwt.views import TokenBlacklistView, TokenRefreshView

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
]

user_urlpatterns = [
    path("", UserListCreateView.as_view(), name="user-list"),
    path("<int:pk>/", UserDetailView.as_view(), name="user-detail"),
    path("<int:pk>/password/", UserPasswordView.as_view(), name="user-password"),
]
