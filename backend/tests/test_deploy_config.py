"""The production topology files, checked without Docker: the compose file against the compose
specification's JSON schema, and every command, health check, volume and setting it names against the
image and the repository. backend/tests/test_topology.py runs the same commands as processes.

tests/fixtures/compose_spec.json is the compose specification's schema as the docker-compose 1.29.2
package on PyPI ships it (compose/config/compose_spec.json, Apache-2.0).
"""

import json
import os
import re
import secrets
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

import jsonschema
import pytest
import yaml
from celery.bin.celery import celery as celery_cli
from django.conf import settings
from django.core.management import get_commands

from tests.deployment import REPO, compose_services, nginx_template_variables

COMPOSE_FILE = REPO / "docker-compose.yml"
SCHEMA = Path(__file__).parent / "fixtures" / "compose_spec.json"
DJANGO_IMAGE = "backend/Dockerfile"
# What the official images of the other services ship (Docker Hub's postgres, redis and nginx).
IMAGE_EXECUTABLES = {"postgres:15": {"pg_isready"}, "redis:7": {"redis-server", "redis-cli"}}
# Folders on the host that the operator provides, as the README's deployment procedure says.
OPERATOR_FOLDERS = {"./weights": "make weights", "${CXR_TLS_DIR": "CXR_TLS_DIR"}


def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def django_services() -> dict[str, dict]:
    return {
        name: service
        for name, service in compose_services().items()
        if service.get("build", {}).get("dockerfile") == DJANGO_IMAGE
    }


def test_compose_file_follows_the_compose_specification():
    schema = json.loads(SCHEMA.read_text())
    errors = [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in jsonschema.Draft201909Validator(schema).iter_errors(compose())
    ]
    assert errors == []


def test_compose_defines_the_production_services():
    services = compose_services()
    assert set(services) == {
        "postgres", "redis", "migrate", "web", "worker", "worker-analysers", "worker-gpu", "beat", "nginx",
        "dicom-listener",
    }  # fmt: skip
    assert services["web"]["command"][0] == "gunicorn"
    # The findings and the other analysers each have a worker service (config/celery_app.py, --role).
    assert services["worker"]["command"][:6] == ["celery", "-A", "config", "worker", "--role", "findings"]
    assert services["worker-analysers"]["command"][:6] == [
        "celery", "-A", "config", "worker", "--role", "analysers"
    ]  # fmt: skip
    assert services["beat"]["command"][:4] == ["celery", "-A", "config", "beat"]
    for name, service in django_services().items():
        environment = service["environment"]
        assert environment["DATABASE_URL"].startswith("postgres://"), name
        assert environment["REDIS_URL"].startswith("redis://redis:"), name
        assert environment["CXR_HTTPS"] == "true" and environment["CXR_TRUSTED_PROXY_COUNT"] == "1", name
    # Web, workers and beat start once the migrations are applied.
    for name in ("web", "worker", "worker-analysers", "worker-gpu", "beat", "dicom-listener"):
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}


def test_the_dicom_listener_is_a_profile_listening_on_every_interface():
    listener = compose_services()["dicom-listener"]
    assert listener["profiles"] == ["pacs"]
    assert listener["command"] == ["python", "manage.py", "dicom_listener"]
    assert listener["environment"]["CXR_DICOM_HOST"] == "0.0.0.0"
    assert listener["ports"] == ["${DICOM_PORT:-11112}:" + listener["environment"]["CXR_DICOM_PORT"]]


def test_the_default_worker_runs_on_cpu_and_the_gpu_worker_is_a_profile_with_a_gpu():
    services = compose_services()
    assert "deploy" not in services["worker"] and "profiles" not in services["worker"]
    assert services["worker"]["build"]["args"]["ML_EXTRA"] == "cpu"
    gpu = services["worker-gpu"]
    assert gpu["profiles"] == ["gpu"] and gpu["build"]["args"]["ML_EXTRA"] == "gpu"
    assert gpu["deploy"]["resources"]["reservations"]["devices"] == [
        {"driver": "nvidia", "count": 1, "capabilities": ["gpu"]}
    ]
    assert gpu["command"] == services["worker"]["command"]


def test_every_command_and_health_check_runs_something_the_image_has():
    celery_commands = set(celery_cli.commands)
    requirements = (REPO / "backend" / "requirements.txt").read_text().lower()
    backend = settings.BACKEND_DIR
    for name, service in compose_services().items():
        commands = [service["command"]] if "command" in service else []
        check = service.get("healthcheck", {}).get("test")
        if check:
            commands.append(check[1:] if check[0] == "CMD" else shlex.split(check[1]))
        for command in commands:
            executable, arguments = command[0], command[1:]
            if name in django_services():
                if executable == "python":
                    script = arguments[0]
                    assert (backend / script).is_file(), f"{name}: {script}"
                    if script == "manage.py":
                        assert arguments[1] in get_commands(), f"{name}: manage.py {arguments[1]}"
                elif executable == "gunicorn":
                    assert "gunicorn==" in requirements and "uvicorn-worker==" in requirements
                    assert arguments[0] == "-c" and (backend / arguments[1]).is_file(), name
                elif executable == "celery":
                    assert re.search(r"^celery\[", requirements, re.MULTILINE)
                    assert (
                        arguments[:2] == ["-A", "config"] and (backend / "config" / "celery_app.py").is_file()
                    )
                    assert arguments[2] in celery_commands, f"{name}: celery {arguments[2]}"
                else:
                    pytest.fail(f"{name}: {executable} is not in the Django image")
            elif name != "nginx":
                assert executable in IMAGE_EXECUTABLES[service["image"]], f"{name}: {executable}"


def test_every_volume_is_declared_made_by_the_image_or_provided_by_the_operator():
    declared = set(compose()["volumes"])
    dockerfile = (REPO / DJANGO_IMAGE).read_text()
    readme = (REPO / "README.md").read_text()
    for name, service in compose_services().items():
        for volume in service.get("volumes", []):
            source, target = split_volume(volume)
            if source.startswith((".", "$")):
                operator_folder = next(key for key in OPERATOR_FOLDERS if source.startswith(key))
                assert OPERATOR_FOLDERS[operator_folder] in readme, f"{name}: README must explain {source}"
            else:
                assert source in declared, f"{name}: volume {source} is not declared"
            if name in django_services() and target.startswith("/var/lib/cxr/"):
                # A named volume takes its owner from the image: the folder must exist there, owned by cxr.
                assert target in dockerfile, f"{name}: the image does not make {target}"


def split_volume(volume: str) -> tuple[str, str]:
    """SOURCE:TARGET[:MODE], where SOURCE may be ${VARIABLE:?message with colons}."""
    source_end = volume.index("}") + 1 if volume.startswith("${") else volume.index(":")
    return volume[:source_end], volume[source_end + 1 :].split(":")[0]


def test_nginx_is_given_exactly_the_variables_its_template_uses():
    environment = compose_services()["nginx"]["environment"]
    assert set(environment) == nginx_template_variables()
    tls_folder = split_volume(compose_services()["nginx"]["volumes"][0])[1]
    assert environment["CXR_TLS_CERTIFICATE"].startswith(tls_folder + "/")
    assert environment["CXR_TLS_CERTIFICATE_KEY"].startswith(tls_folder + "/")
    assert (REPO / "nginx" / "Dockerfile").read_text().count(
        "COPY nginx/templates/ /etc/nginx/templates/"
    ) == 1


def test_nginx_upload_limit_matches_the_services_limit():
    match = re.search(
        r"client_max_body_size\s+(\d+)m;", (REPO / "nginx/templates/default.conf.template").read_text()
    )
    assert match, "nginx must cap the request body size"
    assert int(match.group(1)) * 1024 * 1024 == settings.CXR_MAX_UPLOAD_BYTES
    for service in django_services().values():
        assert service["environment"]["CXR_MAX_UPLOAD_BYTES"] == str(settings.CXR_MAX_UPLOAD_BYTES)


def test_manage_check_deploy_is_clean_under_the_compose_production_settings():
    """Django's deployment checklist passes with the settings the compose file gives the web service."""
    environment = {
        name: value
        for name, value in compose_services()["web"]["environment"].items()
        if "${" not in str(value)  # values the operator supplies are filled in below
    }
    environment.update(
        PATH="/usr/bin:/bin",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(60),
        DJANGO_ALLOWED_HOSTS="cxr.hospital.example",
        DATABASE_URL=os.environ["DATABASE_URL"],
        REDIS_URL=os.environ["REDIS_URL"],
        CXR_VAR_DIR=tempfile.mkdtemp(prefix="cxr-deploy-check-"),
    )
    check = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BACKEND_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "System check identified no issues" in check.stdout
