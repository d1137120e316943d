"""The deployment's files, and the service's own processes started by tests: each on a free loopback
port, with its log in a file, bounded in time, stopped (with its children) by the test that started it.

The deployment tests run the commands docker-compose.yml gives each service, as processes: Docker
cannot run on the test machines.
"""

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import yaml
from django.conf import settings

REPO = settings.REPO_DIR
VENV_BIN = Path(sys.executable).parent
COMPOSE_FILE = REPO / "docker-compose.yml"
NGINX_TEMPLATE = REPO / "nginx" / "templates" / "default.conf.template"
# In the image these are on PATH; here they are the project's virtual environment's.
IMAGE_EXECUTABLES = {
    "python": sys.executable,
    "celery": str(VENV_BIN / "celery"),
    "gunicorn": str(VENV_BIN / "gunicorn"),
}
STOP_SECONDS = 30


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(condition: Callable[[], bool], *, seconds: float, what: str, log: Path | None = None) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            tail = log.read_text()[-4000:] if log is not None and log.exists() else ""
            raise TimeoutError(f"{what} did not happen within {seconds} s.\n{tail}")
        time.sleep(0.25)


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0


def compose_services() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())["services"]


def nginx_template_variables() -> set[str]:
    return set(re.findall(r"\$\{(\w+)\}", NGINX_TEMPLATE.read_text()))


def render_nginx_template(values: Mapping[str, str]) -> str:
    """What the nginx image's entrypoint does with the template: replace ${NAME} from the environment."""
    if set(values) != nginx_template_variables():
        raise ValueError(
            f"The template's variables are {sorted(nginx_template_variables())}, not {sorted(values)}."
        )
    text = NGINX_TEMPLATE.read_text()
    for name, value in values.items():
        text = text.replace("${" + name + "}", value)
    return text


def image_command(command: list[str]) -> list[str]:
    """A command as the image runs it, with the image's executables mapped to this machine's."""
    return [IMAGE_EXECUTABLES.get(command[0], command[0]), *command[1:]]


def compose_command(service: str, *, replace: Mapping[str, str] | None = None) -> list[str]:
    """The service's command as docker-compose.yml gives it, some arguments replaced (ports, paths)."""
    command = image_command(compose_services()[service]["command"])
    return [(replace or {}).get(argument, argument) for argument in command]


class Service:
    """One started process (and the process group of its children), logging to a file."""

    def __init__(self, name: str, command: list[str], *, env: Mapping[str, str], cwd: Path, log: Path):
        self.name = name
        self.log = log
        with log.open("w") as output:
            output.write(f"$ {shlex.join(command)}\n")
            output.flush()
            self.process = subprocess.Popen(
                command,
                cwd=cwd,
                env=dict(env),
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def running(self) -> bool:
        return self.process.poll() is None

    def wait_for(self, condition: Callable[[], bool], *, seconds: float, what: str) -> None:
        def ready() -> bool:
            if not self.running():
                raise RuntimeError(
                    f"{self.name} exited with {self.process.returncode}:\n{self.log.read_text()[-4000:]}"
                )
            return condition()

        wait_until(ready, seconds=seconds, what=f"{self.name}: {what}", log=self.log)

    def stop(self) -> None:
        if self.running():
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=STOP_SECONDS)


def run_checked(command: list[str], *, env: Mapping[str, str], cwd: Path, seconds: float = 180) -> str:
    result = subprocess.run(command, cwd=cwd, env=dict(env), capture_output=True, text=True, timeout=seconds)
    if result.returncode != 0:
        raise RuntimeError(
            f"{shlex.join(command)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return result.stdout


def database_url(name: str) -> str:
    db = settings.DATABASES["default"]
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"


def admin_sql(statement: str) -> None:
    with psycopg.connect(database_url("postgres"), autocommit=True) as connection:
        connection.execute(statement)


@contextmanager
def scratch_database(name: str) -> Iterator[str]:
    """An empty PostgreSQL database of this test alone (its name is unique to it), dropped afterwards."""
    admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin_sql(f'CREATE DATABASE "{name}"')
    try:
        yield database_url(name)
    finally:
        admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def node_environment(*, database_url: str, var_dir: Path, queue: str, **extra: str) -> dict[str, str]:
    """The environment of one node's processes, as docker-compose.yml gives a container, on this machine.

    Nothing of the test run's own service settings leaks in; the node has its own folder (CXR_VAR_DIR)
    and shares only PostgreSQL, Redis (and an object store, when `extra` names one) with other nodes.
    """
    inherited = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("CXR_", "DJANGO_", "PROMETHEUS_", "AWS_", "DATABASE_", "REDIS_", "CELERY_"))
    }
    var_dir.mkdir(parents=True, exist_ok=True)
    return {
        **inherited,
        "DATABASE_URL": database_url,
        "REDIS_URL": settings.REDIS_URL,
        "DJANGO_SECRET_KEY": "topology-test-secret-key-not-for-production-use-0123456789",
        "CXR_VAR_DIR": str(var_dir),
        "CXR_MEDIA_ROOT": str(var_dir / "media"),
        "DJANGO_STATIC_ROOT": str(var_dir / "static"),
        # As in the image: the web app is nginx's to serve, Django has no copy of it.
        "CXR_FRONTEND_DIST": str(var_dir / "no-web-app"),
        "CXR_TASK_QUEUE": queue,
        "CXR_CACHE_PREFIX": queue,
        "CXR_LOG_FORMAT": "json",
        **extra,
    }


@dataclass
class S3Server:
    """A real S3-compatible server (rclone serve s3) keeping each bucket as a folder under `root`."""

    endpoint: str
    bucket: str
    root: Path
    service: Service

    ACCESS_KEY = "cxr-test-access-key"
    SECRET_KEY = "cxr-test-secret-key"

    def environment(self) -> dict[str, str]:
        """What a node is given to keep its media in the bucket (README: several nodes)."""
        return {
            "CXR_S3_BUCKET": self.bucket,
            "CXR_S3_ENDPOINT_URL": self.endpoint,
            "CXR_S3_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": self.ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": self.SECRET_KEY,
        }

    def objects(self) -> set[str]:
        bucket = self.root / self.bucket
        return {str(path.relative_to(bucket)) for path in bucket.rglob("*") if path.is_file()}


@contextmanager
def s3_server(folder: Path, *, bucket: str = "cxr-media") -> Iterator[S3Server]:
    root = folder / "s3"
    (root / bucket).mkdir(parents=True)
    port = free_port()
    command = [str(VENV_BIN / "rclone"), "serve", "s3", str(root), "--addr", f"127.0.0.1:{port}"]
    command += ["--auth-key", f"{S3Server.ACCESS_KEY},{S3Server.SECRET_KEY}"]
    # No rclone configuration of the machine is read: the served folder is given on the command line.
    env = {**os.environ, "RCLONE_CONFIG": str(folder / "rclone.conf")}
    service = Service("rclone serve s3", command, env=env, cwd=folder, log=folder / "s3.log")
    try:
        service.wait_for(lambda: port_open(port), seconds=60, what="listening")
        yield S3Server(endpoint=f"http://127.0.0.1:{port}", bucket=bucket, root=root, service=service)
    finally:
        service.stop()


def nginx_executable() -> str:
    found = shutil.which("nginx", path=os.environ.get("PATH", "") + ":/usr/sbin")
    if found is None:
        pytest.fail("nginx is not installed: `make system-packages` installs Debian's nginx-light.")
    return found


def start_nginx(parent: Path, server: str) -> Service:
    """Debian's nginx with the main file of the nginx image and ``server`` (its conf.d file)."""
    folder = parent / "nginx"
    (folder / "conf.d").mkdir(parents=True)
    (folder / "conf.d" / "default.conf").write_text(server)
    # The main file of the nginx image, with the test's own paths. Run as root (CI), the workers keep
    # root's identity: the test's folders are private to it.
    user = "user root;" if os.geteuid() == 0 else ""
    (folder / "nginx.conf").write_text(
        f"""{user}
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {folder}/access.log;
    client_body_temp_path {folder}/client_body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    include {folder}/conf.d/*.conf;
}}
"""
    )
    command = [nginx_executable(), "-p", str(folder), "-c", str(folder / "nginx.conf")]
    # In the foreground, its error log in the folder from the start (before it reads the configuration).
    command += ["-e", str(folder / "error.log"), "-g", "daemon off;"]
    return Service("nginx", command, env=os.environ, cwd=folder, log=folder / "nginx.log")
