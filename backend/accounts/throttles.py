"""Sign-in throttling against password guessing: failed sign-ins are counted per user name and per
client address in the cache (Redis when configured); past the limit, sign-in answers 429 with
Retry-After, whether the next password is right or not, until the window has ended.

Only failures count once answered, so a clinician signing in many times a day is never throttled; a
guesser is stopped after a few tries at one account (per user name) and across many accounts (per
address), however many tries arrive at once: each is counted before its password is checked.
"""

import contextlib
import hashlib

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from audit.client_address import client_address


class FailedSignInThrottle(SimpleRateThrottle):
    """Refuses sign-in once the attempts counted for this request's key fill the rate.

    Each attempt takes a place under the limit before its password is checked, by an atomic
    increment in the cache (``cache.add`` then ``incr``, one Redis command each), so that of a burst
    of attempts at once at most the limit's number get to a password check. A failure keeps its
    place until the window ends; an attempt that succeeds, is refused here or never reaches the
    check gives its place back (``release``). The window opens with the first attempt it counts
    and lasts the rate's duration.
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
        self.held = False
        if self.key is None:
            return True
        self.now = self.timer()
        count = self.take_place()
        self.held = True
        return count <= self.num_requests

    def take_place(self) -> int:
        self.cache.add(self.window_key(), self.now, self.duration)
        for _ in range(2):
            self.cache.add(self.key, 0, self.duration)
            try:
                return self.cache.incr(self.key)
            except ValueError:
                # The window ended between the two commands: open the next one.
                continue
        raise RuntimeError(f"The sign-in counter {self.key} could not be incremented.")

    def release(self) -> None:
        if not self.held:
            return
        self.held = False
        # A ValueError: the window ended meanwhile, and its count with it.
        with contextlib.suppress(ValueError):
            self.cache.decr(self.key)

    def window_key(self) -> str:
        return f"{self.key}:window"

    def wait(self) -> float:
        opened = self.cache.get(self.window_key(), self.now)
        return max(self.duration - (self.now - opened), 1.0)


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
