"""The web process as it runs in service (gunicorn with uvicorn workers, config/gunicorn.conf.py), on
this test run's database, cache and queue, so that tests reach it over real sockets.

Tokens made by the test process open it (the same secret key), and rows that transactional tests
commit are what it reads. Started once per test module that asks for it, stopped by it.
"""

import socket
import tempfile
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from tests.deployment import (
    VENV_BIN,
    Service,
    database_url,
    free_port,
    node_environment,
    port_open,
)

START_SECONDS = 90


@dataclass
class LiveWeb:
    port: int
    service: Service

    def connect(self, *, timeout: float = 10) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=timeout)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.service.process.pid}/task/{self.service.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def memory_bytes(self) -> int:
        """Resident memory of the web process and its workers together."""
        return sum(resident_bytes(pid) for pid in [self.service.process.pid, *self.worker_pids()])


def answers(port: int) -> bool:
    if not port_open(port):
        return False
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health/live/", timeout=5) as answer:
            return answer.status == 200
    except OSError:
        return False


def resident_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


@contextmanager
def live_web(*, workers: int = 1, extra: Mapping[str, str] | None = None) -> Iterator[LiveWeb]:
    """gunicorn on a free loopback port, on the test database (call it with the database set up)."""
    with tempfile.TemporaryDirectory(prefix="cxr-live-web-") as name:
        folder = Path(name)
        port = free_port()
        env = node_environment(
            database_url=database_url(settings.DATABASES["default"]["NAME"]),
            var_dir=folder / "var",
            queue=settings.CELERY_TASK_DEFAULT_QUEUE,
            CXR_CACHE_PREFIX=settings.CACHES["default"].get("KEY_PREFIX", ""),
            DJANGO_SECRET_KEY=settings.SECRET_KEY,
            DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
            CXR_WEB_BIND=f"127.0.0.1:{port}",
            WEB_CONCURRENCY=str(workers),
            CXR_LOG_FORMAT="plain",
            **(extra or {}),
        )
        command = [str(VENV_BIN / "gunicorn"), "-c", "config/gunicorn.conf.py"]
        service = Service("gunicorn", command, env=env, cwd=settings.BACKEND_DIR, log=folder / "web.log")
        try:
            # Listening is not enough: the master binds the port before its worker can answer.
            service.wait_for(lambda: answers(port), seconds=START_SECONDS, what="answering")
            yield LiveWeb(port=port, service=service)
        finally:
            service.stop()
