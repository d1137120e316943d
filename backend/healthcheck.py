"""Container health check of a web process: is gunicorn answering on this host?

Django answers 400 to a Host it is not configured for, and inside the container the check reaches it
as 127.0.0.1, which DJANGO_ALLOWED_HOSTS (the hospital's host name) need not list. So the request
names the first configured host, as a client's would. It asks the liveness endpoint: a database
outage makes the service unready (/api/health/), not a reason to restart web processes.
Standard library only, so it starts fast; exits 0 when healthy.
"""

import os
import sys
import urllib.request

DEFAULT_HOST = "localhost"


def configured_host(allowed_hosts: str) -> str:
    for entry in allowed_hosts.split(","):
        # ".example.org" allows every subdomain: any of them will do. "*" allows anything.
        host = entry.strip().lstrip(".")
        if host and host != "*":
            return host
    return DEFAULT_HOST


def main() -> int:
    port = os.environ.get("CXR_WEB_PORT", "8000")
    host = configured_host(os.environ.get("DJANGO_ALLOWED_HOSTS", DEFAULT_HOST))
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/health/live/", headers={"Host": host})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return 0 if response.status == 200 else 1
    except OSError as error:
        print(f"unhealthy: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
