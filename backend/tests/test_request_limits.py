"""Request bodies are limited before they are read, against the web process as it runs in service
(gunicorn with uvicorn workers): raw sockets, so that the test decides what is sent and when.

The upload limits are made small here (1 MiB a file, two files a study), so that going past them
costs little.
"""

import json
import select
import socket
import time
from collections.abc import Iterator

import pytest
from django.conf import settings
from loadtest.clinicians import multipart
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import User
from tests.conftest import NIH_DIR
from tests.live_web import LiveWeb, live_web

pytestmark = pytest.mark.django_db(transaction=True)

FILE_LIMIT = 1024 * 1024
IMAGES_PER_STUDY = 2
# As studies.upload_limits.study_upload_body_limit computes it for these settings.
UPLOAD_BODY_LIMIT = IMAGES_PER_STUDY * (FILE_LIMIT + 64 * 1024)
# How soon a refusal that needs no body must come.
ANSWER_SECONDS = 3.0
CHUNK = b"\0" * (64 * 1024)


@pytest.fixture(scope="module")
def web(django_db_setup) -> Iterator[LiveWeb]:
    extra = {"CXR_MAX_UPLOAD_BYTES": str(FILE_LIMIT), "CXR_MAX_IMAGES_PER_STUDY": str(IMAGES_PER_STUDY)}
    with live_web(extra=extra) as server:
        yield server


def bearer(user: User) -> str:
    return f"Bearer {AccessToken.for_user(user)}"


def request_head(path: str, headers: dict[str, str]) -> bytes:
    fields = [f"{name}: {value}" for name, value in headers.items()]
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", *fields]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def read_answer(connection: socket.socket, *, seconds: float) -> tuple[int, dict[str, str], bytes]:
    """The status, headers and body of the answer, which must come within ``seconds``."""
    connection.settimeout(seconds)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        assert chunk, f"the connection closed before an answer: {data!r}"
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    status_line, *header_lines = head.decode().split("\r\n")
    headers = {name.lower(): value.strip() for name, value in (line.split(":", 1) for line in header_lines)}
    while len(body) < int(headers.get("content-length", "0")):
        chunk = connection.recv(65536)
        assert chunk, "the connection closed in the middle of the answer"
        body += chunk
    return int(status_line.split()[1]), headers, body


def closed_by_the_server(connection: socket.socket, *, seconds: float) -> bool:
    """Whether the server closes the connection within ``seconds`` while the client sends nothing:
    a server that meant to read the body would wait for it instead. (Racing the close by sending
    the body proved nothing on a loaded machine: loopback buffers take megabytes before it lands.)"""
    connection.settimeout(seconds)
    try:
        return connection.recv(65536) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def assert_error_shape(body: bytes) -> dict:
    answer = json.loads(body)
    assert set(answer) == {"message", "extra"} and answer["message"]
    return answer


@pytest.mark.parametrize(
    "path",
    ["/api/studies/", "/api/dicomweb/studies/", "/api/monitoring/acceptance-runs/", "/api/auth/token/"],
)
def test_a_declared_length_of_10_gib_is_answered_413_at_once_without_reading_the_body(web, clinician, path):
    with web.connect() as connection:
        connection.sendall(
            request_head(
                path,
                {
                    "Authorization": bearer(clinician),
                    "Content-Type": "multipart/form-data; boundary=x",
                    "Content-Length": str(10 * 1024**3),
                },
            )
        )
        started = time.monotonic()
        status, headers, body = read_answer(connection, seconds=ANSWER_SECONDS)
    assert status == 413, body
    assert time.monotonic() - started < ANSWER_SECONDS
    assert headers["content-type"] == "application/json"
    assert assert_error_shape(body)["extra"]["size_bytes"] == 10 * 1024**3


def test_a_chunked_upload_is_cut_at_the_limit_with_413(web, clinician):
    with web.connect() as connection:
        connection.sendall(
            request_head(
                "/api/studies/",
                {
                    "Authorization": bearer(clinician),
                    "Content-Type": "multipart/form-data; boundary=x",
                    "Transfer-Encoding": "chunked",
                },
            )
        )
        sent = 0
        connection.settimeout(2)
        # Chunks of 64 KiB, never the last one: a server that reads on would take all 256 MiB.
        framed = b"%x\r\n" % len(CHUNK) + CHUNK + b"\r\n"
        while sent < 256 * 1024 * 1024 and not select.select([connection], [], [], 0)[0]:
            try:
                connection.sendall(framed)
            except (TimeoutError, BrokenPipeError, ConnectionResetError):
                break
            sent += len(CHUNK)
        # What the socket buffers on both sides hold beside what the server read.
        assert sent < UPLOAD_BODY_LIMIT + 32 * 1024 * 1024, f"the server read on to {sent} bytes"
        try:
            status, _, body = read_answer(connection, seconds=ANSWER_SECONDS)
        except (ConnectionResetError, AssertionError):
            # Closing with unread bytes in its buffer, the server may reset the connection before
            # the client reads the answer; its access log says what it answered.
            status, body = None, b""
    if status is None:
        log = web.service.log
        deadline = time.monotonic() + ANSWER_SECONDS
        while '"POST /api/studies/ HTTP/1.1" 413' not in log.read_text():
            assert time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(0.1)
    else:
        assert status == 413
        assert assert_error_shape(body)["extra"]["limit_bytes"] == UPLOAD_BODY_LIMIT


@pytest.mark.parametrize(
    "path", ["/api/studies/", "/api/dicomweb/studies/", "/api/monitoring/acceptance-runs/"]
)
@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token"])
def test_an_upload_without_a_valid_token_is_answered_401_before_its_body_is_read(web, path, authorization):
    before = web.memory_bytes()
    headers = {"Content-Type": "multipart/form-data; boundary=x", "Content-Length": str(UPLOAD_BODY_LIMIT)}
    if authorization is not None:
        headers["Authorization"] = authorization
    with web.connect() as connection:
        connection.sendall(request_head(path, headers))
        status, answer_headers, body = read_answer(connection, seconds=ANSWER_SECONDS)
        assert status == 401, body
        assert answer_headers["www-authenticate"].startswith("Bearer")
        assert_error_shape(body)
        # The server closes the connection rather than read the body it refused.
        assert closed_by_the_server(connection, seconds=ANSWER_SECONDS)
    assert web.memory_bytes() - before < 16 * 1024 * 1024


def test_an_upload_of_a_deactivated_user_is_answered_401_before_its_body_is_read(web, clinician):
    token = bearer(clinician)
    clinician.is_active = False
    clinician.save()
    with web.connect() as connection:
        connection.sendall(
            request_head(
                "/api/studies/",
                {
                    "Authorization": token,
                    "Content-Type": "multipart/form-data; boundary=x",
                    "Content-Length": str(UPLOAD_BODY_LIMIT),
                },
            )
        )
        status, _, body = read_answer(connection, seconds=ANSWER_SECONDS)
    assert status == 401, body


def test_an_upload_within_the_limits_passes_the_layer_and_is_queued(web, clinician):
    radiograph = (NIH_DIR / "00030012_000.png").read_bytes()
    assert len(radiograph) < FILE_LIMIT
    body, content_type = multipart("chest.png", radiograph)
    with web.connect(timeout=60) as connection:
        connection.sendall(
            request_head(
                "/api/studies/",
                {
                    "Authorization": bearer(clinician),
                    "Content-Length": str(len(body)),
                    "Content-Type": content_type,
                },
            )
            + body
        )
        status, _, answer = read_answer(connection, seconds=60)
    assert status == 202, answer
    assert json.loads(answer)["status"] == "queued"


def test_a_small_body_over_the_general_limit_is_refused_on_other_routes(web):
    with web.connect() as connection:
        length = settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1
        headers = {"Content-Type": "application/json", "Content-Length": str(length)}
        connection.sendall(request_head("/api/auth/token/", headers))
        status, _, body = read_answer(connection, seconds=ANSWER_SECONDS)
    assert status == 413
    assert assert_error_shape(body)["extra"]["limit_bytes"] == settings.DATA_UPLOAD_MAX_MEMORY_SIZE
