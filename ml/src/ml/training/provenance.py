"""Which code produced a model: the package version and, in a git checkout, the commit."""

from __future__ import annotations

import subprocess
from importlib import metadata
from pathlib import Path

PACKAGE = "cxr-ml"


def code_version() -> dict[str, object]:
    """``{"package": "cxr-ml 0.1.0", "git_commit": "<sha>" or None, "git_dirty": bool or None}``."""
    try:
        package = f"{PACKAGE} {metadata.version(PACKAGE)}"
    except metadata.PackageNotFoundError:
        package = f"{PACKAGE} (not installed)"
    here = Path(__file__).resolve().parent
    commit = _git(here, "rev-parse", "HEAD")
    dirty = None
    if commit is not None:
        status = _git(here, "status", "--porcelain", "--untracked-files=no")
        dirty = bool(status) if status is not None else None
    return {"package": package, "git_commit": commit, "git_dirty": dirty}


def describe_code(version: dict[str, object]) -> str:
    """One line for the model card, e.g. "cxr-ml 0.1.0, git 3f51e36 with uncommitted changes"."""
    text = str(version["package"])
    if version.get("git_commit"):
        text += f", git {str(version['git_commit'])[:12]}"
        if version.get("git_dirty"):
            text += " with uncommitted changes"
    return text


def _git(directory: Path, *arguments: str) -> str | None:
    try:
        completed = subprocess.run(
            ["git", "-C", str(directory), *arguments],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return completed.stdout.strip() if completed.returncode == 0 else None
