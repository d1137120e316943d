"""`make backup` and `make restore`: the database and every media file, into an empty database and an
empty storage (a local folder, or a bucket of a real S3 server), finding every row and file again."""

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from audit.models import AuditEvent
from feedback.models import FindingFeedback
from studies.models import Finding, Study
from tests.deployment import (
    S3Server,
    compose_command,
    database_url,
    node_environment,
    run_checked,
    s3_server,
    scratch_database,
)

pytestmark = pytest.mark.django_db(transaction=True)

# Every table a restore must bring back whole, by primary key.
TABLES = {
    "accounts_user": "id",
    "studies_study": "id",
    "studies_finding": "id",
    "feedback_findingfeedback": "id",
    "audit_auditevent": "id",
}


def rows(url: str) -> dict[str, list[tuple]]:
    with psycopg.connect(url) as database:
        return {
            table: database.execute(f"SELECT * FROM {table} ORDER BY {key}").fetchall()
            for table, key in TABLES.items()
        }


def files_under(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in folder.rglob("*") if path.is_file()}


@pytest.fixture
def service_data(analysed_study, client_for, admin_user, upload, radiograph_jpeg) -> Study:
    """A deployment's worth of rows: an analysed study with feedback, a queued one, and their audit trail."""
    clinician = client_for(analysed_study.owner)
    for label, verdict in (("Effusion", "agree"), ("Mass", "disagree")):
        answer = clinician.put(
            f"/api/studies/{analysed_study.id}/feedback/{label}/",
            {"verdict": verdict, "note": "seen"},
            format="json",
        )
        assert answer.status_code == 200, answer.content
    assert client_for(admin_user).get(f"/api/studies/{analysed_study.id}/").status_code == 200
    assert upload(clinician, radiograph_jpeg, name="chest.jpg").status_code == 202
    assert Finding.objects.count() == 14 and FindingFeedback.objects.count() == 2
    assert AuditEvent.objects.count() >= 5 and Study.objects.count() == 2
    return analysed_study


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    with (
        tempfile.TemporaryDirectory(prefix="cxr-topo-backup-s3-") as folder,
        s3_server(Path(folder)) as server,
    ):
        yield server


@pytest.mark.parametrize("target", ["local folder", "S3 bucket"])
def test_restore_into_an_empty_database_and_storage_finds_every_row_and_file(
    service_data, media_root, tmp_path, target, request
):
    source = database_url(connection.settings_dict["NAME"])
    backup = tmp_path / "backup"
    source_env = node_environment(
        database_url=source, var_dir=tmp_path / "source", queue="unused", CXR_MEDIA_ROOT=str(media_root)
    )
    manage = compose_command("migrate")[:2]
    # What `make backup` and `make restore` run.
    run_checked([*manage, "backup", "--out", str(backup)], env=source_env, cwd=Path.cwd())

    with scratch_database(f"cxr_topo_restore_{os.getpid()}") as restored:
        storage_env = request.getfixturevalue("s3").environment() if target == "S3 bucket" else {}
        restored_env = node_environment(
            database_url=restored, var_dir=tmp_path / "restored", queue="unused", **storage_env
        )
        run_checked([*manage, "restore", str(backup)], env=restored_env, cwd=Path.cwd())
        assert rows(restored) == rows(source)

    media = files_under(media_root)
    # Each study's original, display copy and prepared model input; the analysed one's heatmaps and
    # segmentation masks too.
    assert len(media) == 3 + 3 + 1 + 1
    if target == "S3 bucket":
        s3 = request.getfixturevalue("s3")
        assert files_under(s3.root / s3.bucket) == media
    else:
        assert files_under(tmp_path / "restored" / "media") == media


@pytest.fixture
def uploaded(clinician, client_for, upload, radiograph_bytes) -> Study:
    """A queued study: its rows and its two files (the upload and its display copy)."""
    assert upload(client_for(clinician), radiograph_bytes).status_code == 202
    return Study.objects.get()


def test_restore_refuses_a_database_that_is_not_empty(uploaded, tmp_path):
    call_command("backup", out=tmp_path / "backup")
    with pytest.raises(CommandError, match="is not empty"):
        call_command("restore", str(tmp_path / "backup"))
    assert Study.objects.get() == uploaded


def test_restore_refuses_a_damaged_backup(uploaded, tmp_path):
    call_command("backup", out=tmp_path / "backup")
    display = tmp_path / "backup" / "media" / uploaded.key_image.display_file.name
    display.write_bytes(display.read_bytes()[:-10])
    with pytest.raises(CommandError, match="the backup is damaged"):
        call_command("restore", str(tmp_path / "backup"))
