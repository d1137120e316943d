"""Users and their roles.

Two roles: a clinician uploads and reads their own studies; an admin (Django staff) manages users
and sees every study. The role is derived from is_staff so Django's admin site agrees with the API.
"""

from django.contrib.auth.models import AbstractUser
from django.db import models


class Role(models.TextChoices):
    CLINICIAN = "clinician", "Clinician"
    ADMIN = "admin", "Admin"


class User(AbstractUser):
    @property
    def role(self) -> Role:
        return Role.ADMIN if self.is_staff else Role.CLINICIAN


class ExternalIdentity(models.Model):
    """A user of the hospital's OpenID provider: its issuer and subject name one person for good,
    where user names and e-mail addresses can change or be given to someone else."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="external_identities")
    issuer = models.CharField(max_length=255)
    subject = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="one_user_per_external_identity")
        ]

    def __str__(self) -> str:
        return f"{self.subject} at {self.issuer}"
