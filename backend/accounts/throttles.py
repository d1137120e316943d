"""Sign-in throttling against password guessing: failed sign-ins are counted per user name and per
client address in the cache (Redis when configured); past the limit, sign-in answers 429 with
Retry-After, whether the next password is right or not, until the window has moved on.

Only failures count, so a clinician signing in many times a day is never throttled; a guesser is
stopped after a few tries at one account (per user name) and across many accounts (per address).
"""

import hashlib

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from audit.client_address import client_address


class FailedSignInThrottle(SimpleRateThrottle):
    """Refuses sign-in once the failures recorded for this request's key fill the rate.

    DRF's throttles count every request they allow; this one counts only what ``record_failure``
    adds, and ``allow_request`` just reads.
    """

    rate_setting = ""

    def get_rate(self) -> str:
        # Read at request time, so the rate follows the settings in force.
        return getattr(settings, self.rate_setting)

    def identity(self, request: Request) -> str | None:
        raise NotImplementedError

    def get_cache_key(self, request: Request, view: APIView | None) -> str | None:
        identity = self.identity(request)
        return self.cache_format % {"scope": self.scope, "ident": identity} if identity else None

    def allow_request(self, request: Request, view: APIView) -> bool:
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        self.history = [
            moment for moment in self.cache.get(self.key, []) if moment > self.now - self.duration
        ]
        return len(self.history) < self.num_requests

    def record_failure(self, request: Request) -> None:
        key = self.get_cache_key(request, None)
        if key is None:
            return
        now = self.timer()
        history = [moment for moment in self.cache.get(key, []) if moment > now - self.duration]
        self.cache.set(key, [now, *history], self.duration)


class SignInUsernameThrottle(FailedSignInThrottle):
    scope = "sign-in-username"
    rate_setting = "CXR_SIGN_IN_FAILURES_PER_USERNAME"

    def identity(self, request: Request) -> str | None:
        data = request.data if hasattr(request.data, "get") else {}
        username = str(data.get("username", "") or "").strip().lower()
        # Hashed into the key: the cache never holds what someone typed as a user name.
        return hashlib.sha256(username.encode()).hexdigest() if username else None


class SignInAddressThrottle(FailedSignInThrottle):
    scope = "sign-in-address"
    rate_setting = "CXR_SIGN_IN_FAILURES_PER_ADDRESS"

    def identity(self, request: Request) -> str | None:
        return client_address(request)
