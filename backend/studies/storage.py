"""Where a study's files live in media storage: one folder per study."""

import uuid

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage


def original_path(study_id: uuid.UUID, extension: str) -> str:
    return f"studies/{study_id}/original.{extension}"


def display_path(study_id: uuid.UUID) -> str:
    return f"studies/{study_id}/display.png"


def model_input_path(study_id: uuid.UUID) -> str:
    return f"studies/{study_id}/model-input.npz"


def heatmaps_path(study_id: uuid.UUID, extension: str) -> str:
    return f"studies/{study_id}/heatmaps.{extension}"


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
