"""Where a study's files live in media storage: one folder per study.

A study's first image (position 0) keeps the folder's own names, as every study had before
studies held several images; each further image has a sub-folder of its position.
"""

import uuid

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage


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
    for path in paths:
        if default_storage.exists(path):
            default_storage.delete(path)


def read_file(path: str) -> bytes:
    with default_storage.open(path, "rb") as handle:
        return handle.read()
