"""The production topology files: checked here as far as a machine without Docker can."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from django.conf import settings

REPO = settings.REPO_DIR
NGINX_CONF = REPO / "nginx" / "nginx.conf"


def compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def test_compose_defines_the_production_services():
    services = compose()["services"]
    assert set(services) == {"postgres", "redis", "web", "worker", "nginx"}
    assert "gunicorn" in " ".join(services["web"]["command"])
    assert services["worker"]["command"][:4] == ["celery", "-A", "config", "worker"]
    for service in ("web", "worker"):
        environment = services[service]["environment"]
        assert environment["DATABASE_URL"].startswith("postgres://")
        assert environment["REDIS_URL"].startswith("redis://redis:")


def test_compose_reserves_a_gpu_for_the_worker():
    devices = compose()["services"]["worker"]["deploy"]["resources"]["reservations"]["devices"]
    assert devices == [{"driver": "nvidia", "count": 1, "capabilities": ["gpu"]}]


def test_nginx_upload_limit_matches_the_services_limit():
    match = re.search(r"client_max_body_size\s+(\d+)m;", NGINX_CONF.read_text())
    assert match, "nginx must cap the request body size"
    assert int(match.group(1)) * 1024 * 1024 == settings.CXR_MAX_UPLOAD_BYTES
    assert compose()["services"]["web"]["environment"]["CXR_MAX_UPLOAD_BYTES"] == str(
        settings.CXR_MAX_UPLOAD_BYTES
    )


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed (make test installs it)")
def test_nginx_configuration_is_valid(tmp_path: Path):
    # The upstream host exists only inside the compose network; point it at loopback to check the rest.
    site = NGINX_CONF.read_text().replace("server web:8000;", "server 127.0.0.1:8000;")
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log;\n"
        "events {}\n"
        f"http {{ access_log off; client_body_temp_path {tmp_path}; include {tmp_path}/site.conf; }}\n"
    )
    result = subprocess.run(
        ["nginx", "-t", "-c", str(tmp_path / "nginx.conf")], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
