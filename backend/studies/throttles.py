"""Per-user upload rate limit. Counted in the cache (Redis when configured), answered with 429
and Retry-After by DRF."""

from django.conf import settings
from rest_framework.throttling import UserRateThrottle


class UploadRateThrottle(UserRateThrottle):
    scope = "uploads"

    def get_rate(self) -> str:
        # Read at request time, not import time, so the rate follows the settings in force.
        return settings.CXR_UPLOAD_RATE
