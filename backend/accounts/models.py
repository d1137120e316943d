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
