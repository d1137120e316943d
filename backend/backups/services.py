"""A backup is a folder: the PostgreSQL database as pg_dump's custom format, every media file (local or
in the object store) with its SHA-256 in a manifest. A restore goes into an empty database and storage.

pg_dump and pg_restore are PostgreSQL's own tools (the image and `make system-packages` install them);
the password goes through the environment, never the command line.
"""

import hashlib
import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection
from django.utils import timezone

from common.errors import DomainError
from studies import storage

DATABASE_DUMP = "database.dump"
MEDIA_FOLDER = "media"
MANIFEST = "manifest.json"
TOOL_SECONDS = 3600


@dataclass(frozen=True)
class BackupSummary:
    folder: Path
    media_files: int


def backup_create(*, folder: Path) -> BackupSummary:
    if folder.exists() and any(folder.iterdir()):
        raise DomainError(f"{folder} is not empty: a backup goes into a new folder.")
    folder.mkdir(parents=True, exist_ok=True)
    dump = folder / DATABASE_DUMP
    run_postgres_tool(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={dump}"])
    media: dict[str, str] = {}
    for name in media_names():
        content = storage.read_file(name)
        target = folder / MEDIA_FOLDER / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        media[name] = hashlib.sha256(content).hexdigest()
    manifest = {"created_at": timezone.now().isoformat(), "database": DATABASE_DUMP, "media_sha256": media}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
    return BackupSummary(folder=folder, media_files=len(media))


def backup_restore(*, folder: Path) -> BackupSummary:
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise DomainError(f"{folder} is not a backup: it has no {MANIFEST}.")
    media = json.loads(manifest_path.read_text())["media_sha256"]
    # Check every file first, so that a damaged or incomplete backup restores nothing.
    for name, sha256 in media.items():
        path = folder / MEDIA_FOLDER / name
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != sha256:
            raise DomainError(
                f"{name} is missing from the backup or does not match its SHA-256: the backup is damaged."
            )
    if connection.introspection.table_names():
        raise DomainError(
            f"The database {connection.settings_dict['NAME']} is not empty: restore into a new one "
            "(createdb), then point DATABASE_URL at it."
        )
    if next(media_names(), None) is not None:
        raise DomainError("The media storage is not empty: restore into an empty folder or bucket.")
    run_postgres_tool(
        [
            "pg_restore",
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            str(folder / DATABASE_DUMP),
        ]
    )
    for name in media:
        storage.write_file(name, (folder / MEDIA_FOLDER / name).read_bytes())
    return BackupSummary(folder=folder, media_files=len(media))


def media_names(prefix: str = "") -> Iterator[str]:
    """Every file in media storage, local folder or bucket alike."""
    try:
        folders, files = default_storage.listdir(prefix)
    except FileNotFoundError:
        # A local media folder that nothing was ever written to.
        return
    for name in sorted(files):
        yield f"{prefix}{name}"
    for folder in sorted(folders):
        yield from media_names(f"{prefix}{folder}/")


def run_postgres_tool(command: list[str]) -> None:
    if connection.vendor != "postgresql":
        raise DomainError("Backups are made of PostgreSQL databases: set DATABASE_URL.")
    database = settings.DATABASES["default"]
    arguments = [
        f"--host={database['HOST'] or '127.0.0.1'}",
        f"--port={database['PORT'] or 5432}",
        f"--username={database['USER']}",
        f"--dbname={database['NAME']}",
    ]
    env = {**os.environ, "PGPASSWORD": database["PASSWORD"] or ""}
    result = subprocess.run(
        [*command, *arguments], env=env, capture_output=True, text=True, timeout=TOOL_SECONDS
    )
    if result.returncode != 0:
        raise DomainError(f"{command[0]} failed: {result.stderr.strip()}")
