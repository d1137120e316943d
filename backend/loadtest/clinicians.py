"""Clinicians as the API sees them: sign in, upload distinct real radiographs, retry when told to."""

from __future__ import annotations

import io
import json
import secrets
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

# A 503 or 429 asks the client to come back; a clinician's app does, within this long.
RETRY_SECONDS = 60


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)

    @property
    def is_html(self) -> bool:
        return "html" in self.content_type or self.body.lstrip()[:15].lower().startswith(b"<!doctype html")


@dataclass
class UploadLog:
    """What one clinician's uploads got back."""

    accepted: list[str] = field(default_factory=list)  # study ids answered 201 or 202
    answers: list[Answer] = field(default_factory=list)  # every answer, retries included
    given_up: int = 0  # uploads still refused when RETRY_SECONDS ran out


def request(url: str, *, data: bytes | None = None, headers: dict[str, str] | None = None) -> Answer:
    call = urllib.request.Request(url, data=data, headers=headers or {}, method="POST" if data else "GET")
    try:
        with urllib.request.urlopen(call, timeout=60) as response:
            return Answer(response.status, response.headers.get("Content-Type", ""), response.read())
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.headers.get("Content-Type", ""), error.read())
    except (urllib.error.URLError, OSError) as error:
        # The connection itself failed (a web process restarting): no answer at all.
        return Answer(0, "", str(error).encode())


def sign_in(base_url: str, username: str, password: str) -> str:
    body = json.dumps({"username": username, "password": password}).encode()
    answer = request(f"{base_url}/api/auth/token/", data=body, headers={"Content-Type": "application/json"})
    if answer.status != 200:
        raise RuntimeError(f"Sign-in of {username} failed: {answer.status} {answer.body[:200]!r}")
    return answer.json()["access"]


def multipart(filename: str, content: bytes) -> tuple[bytes, str]:
    boundary = secrets.token_hex(16)
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="{filename}"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode()
    return head + content + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def upload(base_url: str, token: str, filename: str, content: bytes) -> Answer:
    body, content_type = multipart(filename, content)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": content_type}
    return request(f"{base_url}/api/studies/", data=body, headers=headers)


def upload_with_retries(base_url: str, token: str, filename: str, content: bytes, log: UploadLog) -> None:
    deadline = time.monotonic() + RETRY_SECONDS
    while True:
        answer = upload(base_url, token, filename, content)
        log.answers.append(answer)
        if answer.status in (201, 202):
            log.accepted.append(answer.json()["id"])
            return
        if answer.status not in (0, 429, 503) or time.monotonic() > deadline:
            log.given_up += 1
            return
        time.sleep(0.5)


def distinct_radiographs(sources: list[Path], count: int, *, seed: int) -> list[bytes]:
    """``count`` PNGs from the real radiographs, each made distinct by a few changed pixels, so that
    none is answered from the result cache."""
    generator = np.random.default_rng(seed)
    images = []
    for index in range(count):
        pixels = np.asarray(Image.open(sources[index % len(sources)]).convert("L")).copy()
        rows = generator.integers(0, pixels.shape[0], 4)
        columns = generator.integers(0, pixels.shape[1], 4)
        pixels[rows, columns] = generator.integers(0, 256, 4, dtype=np.uint8)
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, format="PNG", compress_level=1)
        images.append(buffer.getvalue())
    return images
