"""The on-disk cache of converted networks: one folder per key, published whole or not at all.

An entry is ``<cache>/<key>/`` holding ``network.xml``, ``network.bin`` and ``manifest.json``
(the key and each file's size and SHA-256). It is written in a temporary folder beside it and
renamed into place, so a reader never finds half an entry; an entry whose manifest is missing,
names another key or disagrees with a file (truncated, damaged, edited) is not trusted but
rebuilt. Processes that start together take a lock per key, so one converts and the others
read its result.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

CACHE_ENV_VAR = "CXR_MODEL_CACHE"
MODEL_FILE = "network.xml"
WEIGHTS_FILE = "network.bin"
MANIFEST_FILE = "manifest.json"
_CHUNK = 1 << 20


def cache_root(environ: Mapping[str, str] | None = None) -> Path:
    """``$CXR_MODEL_CACHE``, else ``cxr/openvino`` in the user's cache (``$XDG_CACHE_HOME``, ~/.cache)."""
    environ = os.environ if environ is None else environ
    configured = environ.get(CACHE_ENV_VAR, "").strip()
    if configured:
        return Path(configured).expanduser()
    base = environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(base) if base else Path.home() / ".cache") / "cxr" / "openvino"


def valid_entry(entry: Path, key: str) -> bool:
    """Whether ``entry`` is a whole entry for ``key``: its manifest agrees with every file."""
    try:
        manifest = json.loads((entry / MANIFEST_FILE).read_text(encoding="utf-8"))
        if not isinstance(manifest, dict) or manifest.get("key") != key:
            return False
        files = manifest["files"]
        return set(files) == {MODEL_FILE, WEIGHTS_FILE} and all(
            _fingerprint(entry / name) == files[name] for name in (MODEL_FILE, WEIGHTS_FILE)
        )
    except (OSError, ValueError, KeyError, TypeError):
        return False


def staging_folder(root: Path, key: str) -> Path:
    """A new empty folder in ``root`` where an entry for ``key`` is written before it is published."""
    root.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{key}.", suffix=".partial", dir=root))


def publish(staged: Path, entry: Path, key: str, details: Mapping[str, object]) -> None:
    """Write ``staged``'s manifest and rename it to ``entry``, replacing an untrusted entry there."""
    manifest = {
        "key": key,
        **details,
        "files": {name: _fingerprint(staged / name) for name in (MODEL_FILE, WEIGHTS_FILE)},
    }
    (staged / MANIFEST_FILE).write_text(
        json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    if entry.exists():
        # Moved aside first, so that the entry's name is never a half-deleted folder.
        discarded = Path(tempfile.mkdtemp(prefix=f".{key}.", suffix=".discarded", dir=entry.parent))
        os.rename(entry, discarded / "entry")
        shutil.rmtree(discarded, ignore_errors=True)
    os.rename(staged, entry)


@contextlib.contextmanager
def key_lock(root: Path, key: str) -> Iterator[None]:
    """Hold the lock of ``key`` in ``root`` (an advisory lock on ``<key>.lock``, released on exit)."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / f"{key}.lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _fingerprint(path: Path) -> dict[str, object]:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return {"size": path.stat().st_size, "sha256": digest.hexdigest()}
