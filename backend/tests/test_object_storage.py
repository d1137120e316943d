"""Media in an S3-compatible object store (a real rclone serve s3 started here), and several nodes that
share nothing but PostgreSQL, Redis and that store."""

import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import urllib3
from django.conf import settings
from django.core.files.storage import default_storage

from backups.services import media_names
from config.media_storage import media_storage
from studies import storage
from tests.conftest import NIH_DIR, study_finished
from tests.deployment import (
    S3Server,
    Service,
    compose_command,
    free_port,
    node_environment,
    port_open,
    run_checked,
    s3_server,
    scratch_database,
    wait_until,
)


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    with tempfile.TemporaryDirectory(prefix="cxr-topo-s3-") as folder, s3_server(Path(folder)) as server:
        yield server


@pytest.fixture
def media_on_s3(s3: S3Server, settings, monkeypatch) -> S3Server:
    for name, value in s3.environment().items():
        monkeypatch.setenv(name, value)
    settings.STORAGES = {**settings.STORAGES, "default": media_storage(os.environ)}
    return s3


def test_study_files_are_written_read_replaced_and_deleted_in_the_object_store(media_on_s3, media_root):
    path = storage.heatmaps_path("0b7c6a5e-0000-4000-8000-000000000001", "npz")
    assert storage.write_file(path, b"first") == path
    assert storage.write_file(path, b"second") == path
    assert storage.read_file(path) == b"second"
    assert default_storage.exists(path)
    # The bytes are on the S3 server, and nothing went to the local media folder.
    assert path in media_on_s3.objects()
    assert not media_root.exists()
    # Backups list the bucket as they list a local folder.
    assert path in set(media_names())
    storage.delete_files([path, "studies/never-written.png"])
    assert not default_storage.exists(path)
    assert path not in media_on_s3.objects()


START_SECONDS = 120
ANALYSIS_SECONDS = 180
USERNAME, PASSWORD = "node-test-admin", "a long multi-node passphrase 3"


class Node:
    """One machine's processes: a web process, and a worker while one is started; its own folder."""

    def __init__(self, name: str, folder: Path, env: dict[str, str]):
        self.name, self.folder, self.env = name, folder, env
        self.port = free_port()
        self.web = Service(
            f"{name} web",
            compose_command("web"),
            env={**env, "CXR_WEB_BIND": f"127.0.0.1:{self.port}", "WEB_CONCURRENCY": "1"},
            cwd=settings.BACKEND_DIR, log=folder / "web.log",
        )  # fmt: skip
        self.worker: Service | None = None
        self.analysers: Service | None = None

    def start_worker(self) -> Service:
        """The node's findings worker and its analysers' worker (each a compose service)."""
        command = [*compose_command("worker"), "--hostname", f"celery@{self.name}-{os.getpid()}"]
        self.worker = Service(f"{self.name} worker", command, env=self.env, cwd=settings.BACKEND_DIR,
                              log=self.folder / "worker.log")  # fmt: skip
        command = [*compose_command("worker-analysers"), "--hostname", f"analysers@{self.name}-{os.getpid()}"]
        self.analysers = Service(f"{self.name} analysers worker", command, env=self.env,
                                 cwd=settings.BACKEND_DIR, log=self.folder / "analysers.log")  # fmt: skip
        for worker in (self.worker, self.analysers):
            worker.wait_for(
                lambda log=worker.log: "ready." in log.read_text(), seconds=START_SECONDS, what="ready"
            )
        return self.worker

    def analysed(self, study_id: str) -> bool:
        """The worker logs the arguments of each task it starts: the study, alone or among a batch."""
        log = self.worker.log.read_text() if self.worker is not None else ""
        return re.search(f"started for .*{study_id}", log) is not None

    def stop(self) -> None:
        for service in (self.worker, self.analysers, self.web):
            if service is not None:
                service.stop()

    def get(self, path: str, token: str) -> urllib3.BaseHTTPResponse:
        return HTTP.request(
            "GET", f"http://127.0.0.1:{self.port}{path}", headers={"Authorization": f"Bearer {token}"}
        )


HTTP = urllib3.PoolManager(retries=False, timeout=30)


def sign_in(node: Node) -> str:
    answer = HTTP.request(
        "POST",
        f"http://127.0.0.1:{node.port}/api/auth/token/",
        json={"username": USERNAME, "password": PASSWORD},
    )
    assert answer.status == 200, answer.data
    return answer.json()["access"]


def upload_and_wait(node: Node, token: str, radiograph: Path) -> str:
    created = HTTP.request(
        "POST", f"http://127.0.0.1:{node.port}/api/studies/",
        fields={"image": (radiograph.name, radiograph.read_bytes(), "image/png")},
        headers={"Authorization": f"Bearer {token}"},
    )  # fmt: skip
    assert created.status == 202, created.data
    study_id = created.json()["id"]
    wait_until(
        lambda: study_finished(node.get(f"/api/studies/{study_id}/", token).json()),
        seconds=ANALYSIS_SECONDS,
        what=f"analysis of {study_id}",
    )
    assert node.get(f"/api/studies/{study_id}/", token).json()["status"] == "done"
    return study_id


@pytest.fixture
def two_nodes(s3: S3Server) -> Iterator[tuple[Node, Node]]:
    with (
        tempfile.TemporaryDirectory(prefix="cxr-topo-nodes-") as name,
        scratch_database(f"cxr_topo_nodes_{os.getpid()}") as database,
    ):
        folder, queue = Path(name), f"cxr-topo-nodes-{os.getpid()}"
        environments = {
            node: node_environment(
                database_url=database,
                var_dir=folder / node,
                queue=queue,
                DJANGO_ALLOWED_HOSTS="127.0.0.1",
                **s3.environment(),
            )
            for node in ("node-a", "node-b")
        }
        manage = compose_command("migrate")[:2]
        run_checked(compose_command("migrate"), env=environments["node-a"], cwd=settings.BACKEND_DIR)
        run_checked(
            [*manage, "createsuperuser", "--noinput", "--email", "it@hospital.test"],
            env={**environments["node-a"], "DJANGO_SUPERUSER_USERNAME": USERNAME,
                 "DJANGO_SUPERUSER_PASSWORD": PASSWORD},
            cwd=settings.BACKEND_DIR,
        )  # fmt: skip
        nodes = [Node(node, folder / node, env) for node, env in environments.items()]
        try:
            for node in nodes:
                node.web.wait_for(
                    lambda node=node: port_open(node.port), seconds=START_SECONDS, what="listening"
                )
            yield nodes[0], nodes[1]
        finally:
            for node in nodes:
                node.stop()


@pytest.mark.worker
def test_studies_analysed_on_either_node_are_served_by_both_web_processes(two_nodes, s3):
    node_a, node_b = two_nodes
    first, second = sorted(NIH_DIR.glob("*.png"))[:2]
    token = sign_in(node_a)

    # Only node A's worker runs: it analyses the first study, uploaded to node A.
    worker_a = node_a.start_worker()
    analysed_on_a = upload_and_wait(node_a, token, first)
    worker_a.stop()
    # Then only node B's worker runs: it analyses the second, uploaded to node B.
    node_b.start_worker()
    analysed_on_b = upload_and_wait(node_b, token, second)
    assert node_a.analysed(analysed_on_a) and not node_b.analysed(analysed_on_a)
    assert node_b.analysed(analysed_on_b) and not node_a.analysed(analysed_on_b)

    for study_id in (analysed_on_a, analysed_on_b):
        study = node_a.get(f"/api/studies/{study_id}/", token).json()
        paths = [f"/api/studies/{study_id}/image/", f"/api/studies/{study_id}/report/"]
        paths += [finding["heatmap"] for finding in study["findings"]]
        for path in paths:
            from_a, from_b = node_a.get(path, token), node_b.get(path, token)
            assert from_a.status == from_b.status == 200, path
            if not path.endswith("/report/"):
                assert from_a.data == from_b.data, path
        assert {object_name.split("/")[1] for object_name in s3.objects()} >= {study_id}
    # Neither node kept media of its own: both read and wrote the object store only.
    assert not (node_a.folder / "media").exists() and not (node_b.folder / "media").exists()
