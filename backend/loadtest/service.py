"""One whole service on loopback: a throwaway PostgreSQL database, a Redis server of its own (so
that it may be stopped), gunicorn, a Celery worker and Celery beat, each a real process."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

BACKEND_DIR = Path(__file__).resolve().parent.parent
PASSWORD = "load-test-passphrase-not-secret"
# Short deadlines, so that a fault's studies end within a test: the reconciler runs every 2 s,
# enqueues again what waited 15 s, and takes back what ran past the hard limit (20 s) by 5 s more.
RELIABILITY_ENV = {
    "CXR_RECONCILE_INTERVAL_SECONDS": "2",
    "CXR_QUEUED_DEADLINE_SECONDS": "15",
    "CXR_TASK_SOFT_TIME_LIMIT": "15",
    "CXR_TASK_TIME_LIMIT": "20",
    "CXR_RUNNING_DEADLINE_SECONDS": "25",
    "CXR_UNAVAILABLE_RETRY_AFTER_SECONDS": "1",
    "CXR_UPLOAD_RATE": "10000/min",
    "CXR_MAX_PENDING_STUDIES_PER_USER": "1000",
}
START_SECONDS = 180
# The service's two Celery workers, by process name: the findings worker and the analysers' worker.
WORKER_ROLES = {"worker": "findings", "analysers": "analysers"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def wait_for(what: str, ready: Callable[[], bool], seconds: float, logs: Path | None = None) -> None:
    deadline = time.monotonic() + seconds
    while not ready():
        if time.monotonic() > deadline:
            tail = logs.read_text()[-4000:] if logs and logs.exists() else ""
            raise TimeoutError(f"{what} did not become ready in {seconds:.0f} s\n{tail}")
        time.sleep(0.25)


@dataclass
class RedisServer:
    """A redis-server on a free loopback port, without persistence: a restart loses its queues."""

    port: int
    work: Path
    process: subprocess.Popen | None = None

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        command += ["--appendonly", "no", "--dir", str(self.work)]
        with (self.work / "redis.log").open("a") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        wait_for("redis-server", self.answers, 20, self.work / "redis.log")

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as connection:
                connection.sendall(b"PING\r\n")
                return connection.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)
        self.process = None


@dataclass
class LiveService:
    """Handles on the running service; ``LiveService.running(...)`` starts and stops it."""

    base_url: str
    database_url: str
    work: Path
    redis: RedisServer
    env: dict[str, str]
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    usernames: list[str] = field(default_factory=list)
    worker_concurrency: int = 1

    @classmethod
    @contextmanager
    def running(
        cls, *, admin_database_url: str, work: Path, clinicians: int, worker_concurrency: int = 1
    ) -> Iterator[LiveService]:
        run_id = f"{os.getpid()}_{secrets.token_hex(3)}"
        database = f"cxr_live_{run_id}"
        work.mkdir(parents=True, exist_ok=True)
        redis = RedisServer(port=free_port(), work=work)
        port = free_port()
        env = {
            **os.environ,
            **RELIABILITY_ENV,
            "DATABASE_URL": with_database(admin_database_url, database),
            "REDIS_URL": f"redis://127.0.0.1:{redis.port}/0",
            "CXR_TASK_QUEUE": f"cxr-live-{run_id}",
            "CXR_CACHE_PREFIX": f"cxr-live-{run_id}",
            "CXR_VAR_DIR": str(work),
            "CXR_MEDIA_ROOT": str(work / "media"),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        }
        env.pop("CELERY_BROKER_URL", None)
        service = cls(
            base_url=f"http://127.0.0.1:{port}",
            database_url=env["DATABASE_URL"],
            work=work,
            redis=redis,
            env=env,
        )
        with psycopg.connect(admin_database_url, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{database}"')
        try:
            redis.start()
            service.manage("migrate", "--noinput", "--verbosity", "0")
            service.usernames = [f"clinician{index}" for index in range(clinicians)]
            creation = "; ".join(
                f"User.objects.create_user({name!r}, password={PASSWORD!r})" for name in service.usernames
            )
            service.manage("shell", "-c", f"from accounts.models import User; {creation}")
            service.start_worker(worker_concurrency)
            service.start("beat", [sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel=INFO"])
            # The web process as every deployment starts it (config/gunicorn.conf.py: ASGI on uvicorn).
            service.env.update(CXR_WEB_BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY="2")
            gunicorn = Path(sys.executable).parent / "gunicorn"
            service.start("web", [str(gunicorn), "-c", "config/gunicorn.conf.py"], application_name="cxr-web")
            wait_for("gunicorn", service.healthy, START_SECONDS, work / "web.log")
            yield service
        finally:
            service.stop_all()
            redis.stop()
            with psycopg.connect(admin_database_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

    def manage(self, *arguments: str) -> None:
        subprocess.run(
            [sys.executable, "manage.py", *arguments], cwd=BACKEND_DIR, env=self.env, check=True, timeout=300
        )

    def start(self, name: str, command: list[str], *, application_name: str | None = None) -> None:
        """Start a process whose log goes to WORK/NAME.log; its database sessions carry application_name."""
        env = dict(self.env)
        if application_name:
            env["DATABASE_URL"] = f"{self.database_url}?application_name={application_name}"
        with (self.work / f"{name}.log").open("a") as log:
            self.processes[name] = subprocess.Popen(
                command,
                cwd=BACKEND_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def start_worker(self, concurrency: int = 1) -> None:
        """Start the findings worker ("worker") and the analysers' worker ("analysers"), as a
        deployment runs them (config/celery_app.py), each with ``concurrency`` processes."""
        self.worker_concurrency = concurrency
        for name, role in WORKER_ROLES.items():
            log = self.work / f"{name}.log"
            offset = log.stat().st_size if log.exists() else 0
            command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel=INFO"]
            command += [f"--concurrency={concurrency}", "--without-mingle", "--without-gossip"]
            command += ["--role", role, "--hostname", f"{role}@%h"]
            self.start(name, command, application_name=f"cxr-{name}")
            started = lambda log=log, offset=offset: "ready." in log.read_text()[offset:]  # noqa: E731
            wait_for(f"the Celery {role} worker", started, START_SECONDS, log)

    def stop_worker(self) -> None:
        """Stop both Celery workers (their pools too) as a deployment would: SIGTERM, a warm shutdown."""
        for name in WORKER_ROLES:
            worker = self.processes.pop(name)
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=60)

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.base_url}/api/health/", timeout=5) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def pool_processes(self, worker: str = "worker") -> list[int]:
        """A worker's pool processes (children of its main process), which run its tasks; the
        findings worker's unless ``worker`` is "analysers"."""
        main = self.processes[worker].pid
        children = Path(f"/proc/{main}/task/{main}/children")
        return [int(pid) for pid in children.read_text().split()] if children.exists() else []

    def query(self, sql: str, *parameters: object) -> list[tuple]:
        with psycopg.connect(self.database_url, autocommit=True) as connection:
            return connection.execute(sql, parameters).fetchall()

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
