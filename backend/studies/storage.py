"""Where a study's files live in media storage: one folder per study.

A study's first image (position 0) keeps the folder's own names, as every study had before
studies held several images; each further image has a sub-folder of its position.
"""

import uuid
from pathlib import Path, PurePosixPath

from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage


def image_folder(study_id: uuid.UUID, position: int) -> str:
    return f"studies/{study_id}" if position == 0 else f"studies/{study_id}/images/{position}"


def original_path(study_id: uuid.UUID, extension: str, position: int = 0) -> str:
    return f"{image_folder(study_id, position)}/original.{extension}"


def display_path(study_id: uuid.UUID, position: int = 0) -> str:
    return f"{image_folder(study_id, position)}/display.png"


def model_input_path(study_id: uuid.UUID, position: int = 0) -> str:
    return f"{image_folder(study_id, position)}/model-input.npz"


def heatmaps_path(study_id: uuid.UUID, extension: str, position: int = 0) -> str:
    return f"{image_folder(study_id, position)}/heatmaps.{extension}"


def analyser_path(study_id: uuid.UUID, kind: str) -> str:
    return f"studies/{study_id}/{kind}.npz"


def explanation_path(study_id: uuid.UUID, label: str, method: str, extension: str) -> str:
    # Labels and methods are checked against the model's own names before they get here.
    return f"studies/{study_id}/explanations/{label}.{method}.{extension}"


def write_file(path: str, content: bytes) -> str:
    """Write content at exactly this path, replacing a file left by an earlier attempt."""
    if default_storage.exists(path):
        default_storage.delete(path)
    return default_storage.save(path, ContentFile(content))


def delete_files(paths: list[str]) -> None:
    """Delete these files, and on a local disk the folders they leave empty (an object store has
    no folders), so an upload refused after its files were written leaves nothing behind."""
    for path in paths:
        if default_storage.exists(path):
            default_storage.delete(path)
    if isinstance(default_storage, FileSystemStorage):
        # Deepest first, so an image's sub-folder goes before its study's folder.
        folders = {str(PurePosixPath(path).parent) for path in paths}
        for folder in sorted(folders, key=lambda name: name.count("/"), reverse=True):
            folder_empty_delete(Path(default_storage.path(folder)), top=Path(default_storage.path("studies")))


def folder_empty_delete(folder: Path, *, top: Path) -> None:
    """Remove ``folder`` if empty, and then each parent it leaves empty, below ``top``."""
    while folder != top and top in folder.parents and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


def read_file(path: str) -> bytes:
    with default_storage.open(path, "rb") as handle:
        return handle.read()
