"""The production topology, as processes: Debian's nginx with the project's own configuration in front
of gunicorn, a Celery worker and Celery beat, on PostgreSQL and Redis, with TLS from a certificate made
here. Each command is the one docker-compose.yml gives its service; every request goes through nginx.
"""

import io
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import urllib3
from django.conf import settings
from pypdf import PdfReader

from tests.conftest import NIH_DIR, study_finished
from tests.deployment import (
    REPO,
    VENV_BIN,
    Service,
    compose_command,
    compose_services,
    free_port,
    image_command,
    node_environment,
    port_open,
    render_nginx_template,
    run_checked,
    scratch_database,
    start_nginx,
    wait_until,
)

pytestmark = pytest.mark.worker

SPA_DIST = REPO / "frontend" / "dist"
HOSPITAL_HOST = "cxr.hospital.test"
# The test's client connects from this loopback address, so that nginx's view of the client (this
# address) differs from Django's peer (nginx, at 127.0.0.1).
CLIENT_ADDRESS = "127.0.0.7"
ADMIN_USERNAME, ADMIN_PASSWORD = "topology-admin", "a long topology passphrase 7"
CLINICIAN_USERNAME, CLINICIAN_PASSWORD = "topology-clinician", "another long passphrase 9"
METRICS_TOKEN = "topology-metrics-token"
START_SECONDS = 120
ANALYSIS_SECONDS = 180


def make_certificate(folder: Path) -> tuple[Path, Path]:
    certificate, key = folder / "fullchain.pem", folder / "privkey.pem"
    names = f"subjectAltName=DNS:{HOSPITAL_HOST},IP:127.0.0.1"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-days", "2", "-subj", f"/CN={HOSPITAL_HOST}", "-addext", names,
         "-keyout", str(key), "-out", str(certificate)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return certificate, key


def web_app_root(folder: Path) -> Path:
    """The web app laid out as nginx/Dockerfile lays it: index.html at the root, the rest under static/."""
    if not (SPA_DIST / "index.html").is_file():
        pytest.fail("The web app is not built: `make test` builds it (make spa).")
    root = folder / "html"
    shutil.copytree(SPA_DIST, root / "static")
    (root / "static" / "index.html").rename(root / "index.html")
    return root


@dataclass
class Topology:
    http_port: int
    https_port: int
    web_port: int
    worker_metrics_port: int
    certificate: Path
    tls_key: Path
    env: dict[str, str]
    web: Service
    worker: Service
    beat: Service
    worker_node: str

    def client(self) -> urllib3.PoolManager:
        return urllib3.PoolManager(
            ca_certs=str(self.certificate), source_address=(CLIENT_ADDRESS, 0), retries=False, timeout=30
        )

    def https(self, path: str) -> str:
        return f"https://127.0.0.1:{self.https_port}{path}"


@pytest.fixture(scope="module")
def topology() -> Iterator[Topology]:
    # A folder of its own rather than pytest's: other test runs on the machine prune pytest's folders.
    with tempfile.TemporaryDirectory(prefix="cxr-topo-") as name:
        yield from run_topology(Path(name))


def run_topology(folder: Path) -> Iterator[Topology]:
    run_id = f"topo-{os.getpid()}"
    ports = {name: free_port() for name in ("http", "https", "web", "worker_metrics")}
    certificate, key = make_certificate(folder)
    with scratch_database(f"cxr_topo_{os.getpid()}") as database:
        env = node_environment(
            database_url=database,
            var_dir=folder / "var",
            queue=f"cxr-{run_id}",
            # As docker-compose.yml sets them for every Django service.
            **{name: str(value) for name, value in compose_services()["web"]["environment"].items()
               if name in {"CXR_TRUSTED_PROXY_COUNT", "CXR_HTTPS", "CXR_MAX_UPLOAD_BYTES"}},
            DJANGO_ALLOWED_HOSTS=HOSPITAL_HOST,
            CXR_METRICS_TOKEN=METRICS_TOKEN,
            CXR_WEB_PORT=str(ports["web"]),
            # Django's own HSTS header too, which nginx must not repeat.
            CXR_HSTS_SECONDS="600",
        )  # fmt: skip
        backend = settings.BACKEND_DIR
        run_checked(compose_command("migrate"), env=env, cwd=backend)
        # The image runs collectstatic when it is built.
        manage = compose_command("migrate")[:2]
        run_checked([*manage, "collectstatic", "--noinput", "-v", "0"], env=env, cwd=backend)
        # The first admin, as the README's deployment procedure makes it.
        run_checked(
            [*manage, "createsuperuser", "--noinput"],
            env={**env, "DJANGO_SUPERUSER_USERNAME": ADMIN_USERNAME,
                 "DJANGO_SUPERUSER_PASSWORD": ADMIN_PASSWORD, "DJANGO_SUPERUSER_EMAIL": "it@hospital.test"},
            cwd=backend,
        )  # fmt: skip
        services: list[Service] = []
        try:
            # Two gunicorn workers instead of three: the test machine has two cores.
            web_env = {
                **env,
                "PROMETHEUS_MULTIPROC_DIR": str(folder / "web-metrics"),
                "CXR_WEB_BIND": f"127.0.0.1:{ports['web']}",
                "WEB_CONCURRENCY": "2",
            }
            web_command = compose_command("web")
            web = Service("gunicorn", web_command, env=web_env, cwd=backend, log=folder / "web.log")
            services.append(web)
            worker_node = f"{run_id}-worker"
            worker_env = {
                **env,
                "PROMETHEUS_MULTIPROC_DIR": str(folder / "worker-metrics"),
                "CXR_WORKER_METRICS_PORT": str(ports["worker_metrics"]),
                "CXR_WORKER_METRICS_ADDRESS": "127.0.0.1",
            }
            worker_command = [*compose_command("worker"), "--hostname", f"celery@{worker_node}"]
            worker = Service("worker", worker_command, env=worker_env, cwd=backend, log=folder / "worker.log")
            services.append(worker)
            # The analysers' worker (its own compose service), without a metrics port of its own here.
            analysers_command = [
                *compose_command("worker-analysers"),
                "--hostname",
                f"celery@{run_id}-analysers",
            ]
            analysers_env = {**env, "PROMETHEUS_MULTIPROC_DIR": str(folder / "analysers-metrics")}
            analysers = Service(
                "analysers worker",
                analysers_command,
                env=analysers_env,
                cwd=backend,
                log=folder / "analysers.log",
            )
            services.append(analysers)
            beat_command = compose_command(
                "beat", replace={"/var/lib/cxr/beat/schedule": str(folder / "beat-schedule")}
            )
            beat = Service("beat", beat_command, env=env, cwd=backend, log=folder / "beat.log")
            services.append(beat)
            nginx = start_nginx(
                folder,
                render_nginx_template(
                    {
                        "CXR_WEB_UPSTREAM": f"127.0.0.1:{ports['web']}",
                        "CXR_HTTP_PORT": str(ports["http"]),
                        "CXR_HTTPS_PORT": str(ports["https"]),
                        "CXR_PUBLIC_HTTPS_PORT": str(ports["https"]),
                        "CXR_TLS_CERTIFICATE": str(certificate),
                        "CXR_TLS_CERTIFICATE_KEY": str(key),
                        "CXR_SPA_ROOT": str(web_app_root(folder)),
                    }
                ),
            )
            services.append(nginx)
            nginx.wait_for(lambda: port_open(ports["https"]), seconds=START_SECONDS, what="listening")
            web.wait_for(lambda: port_open(ports["web"]), seconds=START_SECONDS, what="listening")
            for started in (worker, analysers):
                started.wait_for(
                    lambda log=started.log: "ready." in log.read_text(), seconds=START_SECONDS, what="ready"
                )
            yield Topology(
                http_port=ports["http"],
                https_port=ports["https"],
                web_port=ports["web"],
                worker_metrics_port=ports["worker_metrics"],
                certificate=certificate,
                tls_key=key,
                env=env,
                web=web,
                worker=worker,
                beat=beat,
                worker_node=worker_node,
            )
        finally:
            for service in reversed(services):
                service.stop()


def sign_in(topology: Topology, username: str, password: str, **headers: str) -> str:
    response = topology.client().request(
        "POST",
        topology.https("/api/auth/token/"),
        json={"username": username, "password": password},
        headers={"Host": HOSPITAL_HOST, **headers},
    )
    assert response.status == 200, response.data
    return response.json()["access"]


def bearer(token: str) -> dict[str, str]:
    return {"Host": HOSPITAL_HOST, "Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def clinician_token(topology: Topology) -> str:
    admin = sign_in(topology, ADMIN_USERNAME, ADMIN_PASSWORD)
    created = topology.client().request(
        "POST",
        topology.https("/api/users/"),
        json={"username": CLINICIAN_USERNAME, "password": CLINICIAN_PASSWORD, "role": "clinician"},
        headers=bearer(admin),
    )
    assert created.status == 201, created.data
    return sign_in(topology, CLINICIAN_USERNAME, CLINICIAN_PASSWORD)


def test_http_redirects_to_https_and_https_answers_carry_hsts(topology):
    client = topology.client()
    redirect = client.request(
        "GET", f"http://127.0.0.1:{topology.http_port}/studies/x?page=2", headers={"Host": HOSPITAL_HOST},
        redirect=False,
    )  # fmt: skip
    assert redirect.status == 301
    assert redirect.headers["Location"] == f"https://{HOSPITAL_HOST}:{topology.https_port}/studies/x?page=2"
    for path in ("/", "/api/health/", "/api/nothing-here/"):
        answer = client.request("GET", topology.https(path), headers={"Host": HOSPITAL_HOST})
        assert answer.headers.getlist("Strict-Transport-Security") == ["max-age=31536000"], path


def test_rest_flow_through_nginx_sign_in_upload_result_heatmap_report(
    topology, clinician_token, analysed_study
):
    client = topology.client()
    study, request_id = analysed_study
    assert study["status"] == "done", study["message"]
    assert len(study["findings"]) == 14
    assert all(0.0 <= finding["probability"] <= 1.0 for finding in study["findings"])

    heatmap = client.request(
        "GET", topology.https(study["findings"][0]["heatmap"]), headers=bearer(clinician_token)
    )
    assert heatmap.status == 200 and heatmap.data.startswith(b"\x89PNG")
    assert heatmap.headers["Cache-Control"] == "private, max-age=3600"
    report = client.request(
        "GET", topology.https(f"/api/studies/{study['id']}/report/"), headers=bearer(clinician_token)
    )
    assert report.status == 200 and report.headers["Content-Type"] == "application/pdf"
    assert len(PdfReader(io.BytesIO(report.data)).pages) >= 1

    # The id nginx gave the upload request is on the worker's log lines for its analysis.
    worker_lines = [
        json.loads(line) for line in topology.worker.log.read_text().splitlines() if line.startswith("{")
    ]
    analysis_lines = [line["message"] for line in worker_lines if line["request_id"] == request_id]
    # The task's arguments name the study, alone or among a batch.
    started = f"started for .*{study['id']}"
    assert any(re.search(started, message) for message in analysis_lines), analysis_lines
    assert any(message.endswith(": SUCCESS") for message in analysis_lines), analysis_lines


def test_upload_over_the_limit_is_refused_by_nginx_with_413_in_the_api_error_shape(topology, clinician_token):
    too_large = b"\0" * (settings.CXR_MAX_UPLOAD_BYTES + 1024)
    answer = topology.client().request(
        "POST", topology.https("/api/studies/"), fields={"image": ("big.png", too_large, "image/png")},
        headers=bearer(clinician_token),
    )  # fmt: skip
    assert answer.status == 413
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.json() == {
        "message": "The upload is larger than the 50 MiB limit.",
        "extra": {"limit_bytes": settings.CXR_MAX_UPLOAD_BYTES},
    }
    # gunicorn's access log shows every request Django answered: this one never reached it.
    assert '"POST /api/studies/ HTTP/1.1" 413' not in topology.web.log.read_text()


def tls_connection(topology: Topology) -> ssl.SSLSocket:
    context = ssl.create_default_context(cafile=str(topology.certificate))
    raw = socket.create_connection(
        ("127.0.0.1", topology.https_port), timeout=10, source_address=(CLIENT_ADDRESS, 0)
    )
    return context.wrap_socket(raw, server_hostname=HOSPITAL_HOST)


@pytest.mark.parametrize("path", ["/api/studies/", "/api/dicomweb/studies/"])
@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token"])
def test_an_upload_without_a_valid_token_is_answered_401_by_nginx_before_its_body_is_read(
    topology, path, authorization
):
    declared = 40 * 1024 * 1024  # under nginx's 50 MiB, which it would otherwise read and buffer first
    head = [f"POST {path} HTTP/1.1", f"Host: {HOSPITAL_HOST}", f"Content-Length: {declared}",
            "Content-Type: multipart/form-data; boundary=x"]  # fmt: skip
    if authorization is not None:
        head.append(f"Authorization: {authorization}")
    with tls_connection(topology) as connection:
        connection.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + b"\0" * (1024 * 1024))
        # The rest of the body is never sent: the answer must come without it.
        connection.settimeout(10)
        answer = b""
        while b"}" not in answer:
            chunk = connection.recv(65536)
            assert chunk, answer
            answer += chunk
    head_text, body = answer.split(b"\r\n\r\n", 1)
    assert head_text.startswith(b"HTTP/1.1 401"), head_text
    headers = head_text.decode().lower()
    assert "content-type: application/json" in headers
    assert 'www-authenticate: bearer realm="api"' in headers
    assert set(json.loads(body)) == {"message", "extra"}
    # Django saw only the token check, never the upload.
    assert f'"POST {path} HTTP/1.1" 401' not in topology.web.log.read_text()


def test_the_worklist_and_an_upload_with_a_valid_token_pass_the_token_check(topology, clinician_token):
    client = topology.client()
    worklist = client.request("GET", topology.https("/api/studies/"), headers=bearer(clinician_token))
    assert worklist.status == 200 and "results" in worklist.json()
    # An empty upload with a valid token reaches Django, which says what is wrong with it.
    empty = client.request(
        "POST", topology.https("/api/studies/"), fields={"image": ("empty.png", b"", "image/png")},
        headers=bearer(clinician_token),
    )  # fmt: skip
    assert empty.status == 400 and set(empty.json()) == {"message", "extra"}
    assert '"POST /api/studies/ HTTP/1.1" 400' in topology.web.log.read_text()


@pytest.fixture(scope="module")
def analysed_study(topology: Topology, clinician_token: str) -> tuple[dict, str]:
    """A radiograph uploaded through nginx and analysed by the worker; the study and its request id."""
    client = topology.client()
    radiograph = (NIH_DIR / "00030012_000.png").read_bytes()
    created = client.request(
        "POST", topology.https("/api/studies/"), fields={"image": ("chest.png", radiograph, "image/png")},
        headers=bearer(clinician_token),
    )  # fmt: skip
    assert created.status == 202, created.data
    study_url = topology.https(f"/api/studies/{created.json()['id']}/")

    def finished() -> bool:
        return study_finished(client.request("GET", study_url, headers=bearer(clinician_token)).json())

    wait_until(finished, seconds=ANALYSIS_SECONDS, what="the analysis", log=topology.worker.log)
    return client.request("GET", study_url, headers=bearer(clinician_token)).json(), created.headers[
        "X-Request-ID"
    ]


def test_api_docs_load_with_every_asset_through_nginx(topology):
    client = topology.client()
    page = client.request("GET", topology.https("/api/docs/"), headers={"Host": HOSPITAL_HOST})
    assert page.status == 200 and page.headers["Content-Type"].startswith("text/html")
    assets = re.findall(r'(?:src|href)="(/[^"]+)"', page.data.decode())
    assert any(asset.endswith(".js") for asset in assets) and any(asset.endswith(".css") for asset in assets)
    for asset in [*assets, "/api/schema/"]:
        answer = client.request("GET", topology.https(asset), headers={"Host": HOSPITAL_HOST})
        assert answer.status == 200, asset
        # Before the fix these fell through to the web app's index.html.
        assert not answer.headers["Content-Type"].startswith("text/html"), asset


def test_web_app_is_served_by_nginx_with_long_lived_assets_and_a_revalidated_index(topology):
    client = topology.client()
    index_html = (SPA_DIST / "index.html").read_bytes()
    for route in ("/", "/studies/0b7c6a5e-0000-4000-8000-000000000000", "/audit"):
        page = client.request("GET", topology.https(route), headers={"Host": HOSPITAL_HOST})
        assert page.status == 200 and page.data == index_html, route
        assert page.headers["Cache-Control"] == "no-cache", route
    assets = re.findall(r'(?:src|href)="/static/(assets/[^"]+)"', index_html.decode())
    assert assets
    for asset in assets:
        answer = client.request("GET", topology.https(f"/static/{asset}"), headers={"Host": HOSPITAL_HOST})
        assert answer.status == 200 and answer.data == (SPA_DIST / asset).read_bytes(), asset
        assert answer.headers["Cache-Control"] == "public, max-age=31536000, immutable", asset
    # Django never saw these requests: nginx served them from the files.
    assert "GET /static/assets/" not in topology.web.log.read_text()


def test_audit_log_records_the_address_nginx_forwarded_and_ignores_a_forged_one(topology, clinician_token):
    sign_in(topology, CLINICIAN_USERNAME, CLINICIAN_PASSWORD, **{"X-Forwarded-For": "203.0.113.9"})
    admin = sign_in(topology, ADMIN_USERNAME, ADMIN_PASSWORD)
    events = (
        topology.client()
        .request("GET", topology.https("/api/audit/?action=sign_in"), headers=bearer(admin))
        .json()["results"]
    )
    clinician_sign_ins = [event for event in events if event["actor_username"] == CLINICIAN_USERNAME]
    assert len(clinician_sign_ins) >= 2
    # Django's peer is nginx at 127.0.0.1; the client is the address nginx saw, never the forged one.
    assert {event["ip_address"] for event in events} == {CLIENT_ADDRESS}


def test_django_knows_requests_are_https_and_sends_cookies_only_over_it(topology):
    page = topology.client().request("GET", topology.https("/admin/login/"), headers={"Host": HOSPITAL_HOST})
    assert page.status == 200
    cookie = page.headers["Set-Cookie"]
    assert cookie.startswith("csrftoken=") and "Secure" in cookie


def test_compose_healthchecks_pass_on_the_running_web_and_worker(topology):
    services = compose_services()
    # The web check names the hospital's host: Django refuses 127.0.0.1 as a Host it does not serve.
    plain = urllib3.PoolManager(retries=False, timeout=10)
    assert plain.request("GET", f"http://127.0.0.1:{topology.web_port}/api/health/live/").status == 400
    web_check = services["web"]["healthcheck"]["test"]
    assert web_check[0] == "CMD"
    web = subprocess.run(
        image_command(web_check[1:]), cwd=settings.BACKEND_DIR, env=topology.env, capture_output=True,
        timeout=30,
    )  # fmt: skip
    assert web.returncode == 0, web.stderr
    # The worker check pings this worker by its node name, as a container's host name gives it.
    worker_check = services["worker"]["healthcheck"]["test"]
    assert worker_check[0] == "CMD-SHELL"
    shell_line = worker_check[1].replace("$$", "$")
    worker = subprocess.run(
        ["sh", "-c", shell_line], cwd=settings.BACKEND_DIR, capture_output=True, timeout=60,
        env={**topology.env, "HOSTNAME": topology.worker_node, "PATH": f"{VENV_BIN}:{os.environ['PATH']}"},
    )  # fmt: skip
    assert worker.returncode == 0, worker.stdout + worker.stderr
    assert b"pong" in worker.stdout


def test_celery_beat_runs_beside_the_worker(topology):
    assert topology.beat.running(), topology.beat.log.read_text()
    wait_until(
        lambda: "beat: Starting" in topology.beat.log.read_text(),
        seconds=30,
        what="beat start",
        log=topology.beat.log,
    )
    assert topology.worker.running()


def test_metrics_are_scraped_inside_and_refused_through_nginx(topology, analysed_study):
    client = topology.client()
    outside = client.request("GET", topology.https("/api/metrics/"), headers={"Host": HOSPITAL_HOST})
    assert outside.status == 404 and outside.json()["extra"] == {}

    web_metrics = f"http://127.0.0.1:{topology.web_port}/api/metrics/"
    anonymous = client.request("GET", web_metrics, headers={"Host": HOSPITAL_HOST})
    assert anonymous.status == 401
    scraped = client.request(
        "GET", web_metrics, headers={"Host": HOSPITAL_HOST, "Authorization": f"Bearer {METRICS_TOKEN}"}
    )
    assert scraped.status == 200
    text = scraped.data.decode()
    assert 'cxr_http_requests_total{method="POST",route="api/studies/",status="202"} 1.0' in text
    assert 'cxr_http_request_duration_seconds_count{method="POST",route="api/studies/"}' in text
    assert 'cxr_studies{status="done"} 1.0' in text
    assert f'cxr_queue_depth{{queue="{topology.env["CXR_TASK_QUEUE"]}"}} 0.0' in text

    worker_text = client.request(
        "GET", f"http://127.0.0.1:{topology.worker_metrics_port}/metrics"
    ).data.decode()
    assert 'cxr_task_duration_seconds_count{state="SUCCESS",task="studies.analyze_study"} 1.0' in worker_text
    assert "cxr_model_load_seconds_count 1.0" in worker_text


def test_nginx_answers_503_in_the_api_error_shape_while_django_is_down(topology, tmp_path):
    nothing_listens = free_port()
    nginx = start_nginx(
        tmp_path,
        render_nginx_template(
            {
                "CXR_WEB_UPSTREAM": f"127.0.0.1:{nothing_listens}",
                "CXR_HTTP_PORT": str(free_port()),
                "CXR_HTTPS_PORT": str(https_port := free_port()),
                "CXR_PUBLIC_HTTPS_PORT": str(https_port),
                "CXR_TLS_CERTIFICATE": str(topology.certificate),
                "CXR_TLS_CERTIFICATE_KEY": str(topology.tls_key),
                "CXR_SPA_ROOT": str(web_app_root(tmp_path)),
            }
        ),
    )
    try:
        nginx.wait_for(lambda: port_open(https_port), seconds=START_SECONDS, what="listening")
        client = topology.client()
        down = client.request(
            "GET", f"https://127.0.0.1:{https_port}/api/health/", headers={"Host": HOSPITAL_HOST}
        )
        assert down.status == 503 and down.headers["Content-Type"] == "application/json"
        assert down.json() == {
            "message": "The service is starting or unavailable; try again shortly.",
            "extra": {},
        }
        # The web app still loads: nginx serves it from its own files.
        page = client.request("GET", f"https://127.0.0.1:{https_port}/", headers={"Host": HOSPITAL_HOST})
        assert page.status == 200
    finally:
        nginx.stop()


def test_live_status_streams_through_nginx_as_it_happens(topology, clinician_token):
    """The stream's first event arrives through nginx at once: nginx does not buffer it."""
    client = topology.client()
    stream = client.request(
        "GET",
        topology.https("/api/studies/events/"),
        headers={**bearer(clinician_token), "Accept": "text/event-stream"},
        preload_content=False,
        timeout=urllib3.Timeout(connect=5, read=5),
    )
    try:
        assert stream.status == 200
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        # With buffering on, nothing would come through for a quiet stream until nginx's buffer
        # fills or the stream ends; "ready" must arrive within the read timeout.
        first = stream.read1(4096)
        assert b"event: ready" in first, first
    finally:
        stream.release_conn()
        stream.close()


def test_django_redirects_plain_http_but_not_the_internal_health_checks(topology):
    """Behind nginx Django sees HTTPS; a plain-HTTP request that reaches it is redirected, except health."""
    direct = urllib3.PoolManager(retries=False, timeout=10)
    headers = {"Host": HOSPITAL_HOST}
    web = f"http://127.0.0.1:{topology.web_port}"
    login = direct.request("GET", f"{web}/admin/login/", headers=headers, redirect=False)
    assert login.status == 301 and login.headers["Location"].startswith("https://")
    assert direct.request("GET", f"{web}/api/health/live/", headers=headers).status == 200
