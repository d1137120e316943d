"""The files of a weights directory, without any framework: ``card.json`` and ``model.weights.h5``.

Every model kind keeps its weights the same way, so reading, hashing and naming them lives here
once; ``ml.cards.base.Card.describe`` reads a directory with these.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ml.errors import WeightsError

CARD_FILENAME = "card.json"
WEIGHTS_FILENAME = "model.weights.h5"


def weights_dir_from_env(variable: str, environ: Mapping[str, str] | None = None) -> Path | None:
    """The weights directory named by the environment ``variable``, or None when unset or empty."""
    value = (os.environ if environ is None else environ).get(variable, "").strip()
    return Path(value) if value else None


def read_card_json(path: str | os.PathLike[str]) -> Any:
    """The parsed JSON of a card file; WeightsError when it is missing, unreadable or not JSON."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise WeightsError(f"The model card {path} does not exist.") from error
    except (OSError, UnicodeDecodeError) as error:
        raise WeightsError(f"The model card {path} cannot be read: {error}.") from error
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise WeightsError(f"The model card {path} is not valid JSON: {error}.") from error


def write_card_json(path: str | os.PathLike[str], content: dict[str, Any]) -> None:
    """Write a card's JSON atomically, so a reader never sees half a card."""
    path = Path(path)
    text = json.dumps(content, indent=2, ensure_ascii=False) + "\n"
    descriptor, temporary = tempfile.mkstemp(prefix=".card-", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def sha256_file(path: str | os.PathLike[str]) -> str:
    """The hex SHA-256 of a file, read in chunks so large weights never sit in memory whole."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_stamp(path: Path, directory: Path) -> tuple[int, int, int]:
    """What identifies a file's version for a cache: inode, size and modification time."""
    try:
        stat = path.stat()
    except FileNotFoundError as error:
        raise WeightsError(f"The weights directory {directory} has no {path.name}.") from error
    except OSError as error:
        raise WeightsError(f"{path} cannot be read: {error}.") from error
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns)


def verified_sha256(weights_path: Path, recorded: str | None) -> str:
    """The weights file's SHA-256; WeightsError when it is unreadable or differs from the card's record."""
    try:
        actual = sha256_file(weights_path)
    except OSError as error:
        raise WeightsError(f"{weights_path} cannot be read: {error}.") from error
    if recorded is not None and recorded != actual:
        raise WeightsError(
            f"{weights_path} has SHA-256 {actual}, but {CARD_FILENAME} records {recorded}: "
            "the weights file was changed or replaced after the card was written."
        )
    return actual
