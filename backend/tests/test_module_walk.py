"""The walk of an upload's bytes, from the view to the stored study and then in the worker, visits
each module once: no module is driven piece by piece (tests.module_walk says what counts)."""

import uuid
from collections.abc import Callable

import pytest
from pydicom.uid import generate_uid

from studies.analysis import studies_analyze
from studies.models import Study, StudyStatus
from studies.tasks import analyze_study
from studies.views import StudyListCreateView
from tests.module_walk import Walk, walk_traced
from tests.test_multi_image_studies import FRONTAL_DICOM, TWO_RADIOGRAPHS, dicom_with, nih

pytestmark = pytest.mark.django_db


def walk_report(walk: Walk) -> str:
    return "\n".join(f"{'RETURN ' if entry in walk.returns else '       '}{entry}" for entry in walk.entries)


@pytest.fixture
def traced_upload(
    monkeypatch, clinician, client_for, upload
) -> Callable[[bytes, str], tuple[uuid.UUID, Walk]]:
    """Upload a file as a clinician, tracing the walk from the view's entry to its answer."""
    post = StudyListCreateView.post
    walks: list[Walk] = []

    def traced_post(view, request):
        with walk_traced() as walk:
            walks.append(walk)
            return post(view, request)

    monkeypatch.setattr(StudyListCreateView, "post", traced_post)

    def send(content: bytes, name: str) -> tuple[uuid.UUID, Walk]:
        created = upload(client_for(clinician), content, name)
        assert created.status_code == 202, created.content
        return uuid.UUID(created.json()["id"]), walks[-1]

    # One upload first, so that imports and first-use set-up are not part of the walk traced.
    study_id, _ = send(FRONTAL_DICOM.read_bytes(), "warm-up.dcm")
    studies_analyze(study_id=study_id, claimant="warm-up")
    return send


@pytest.mark.parametrize("sample", ["png", "dicom"])
def test_an_uploads_walk_from_the_view_to_the_stored_study_returns_to_no_module(
    traced_upload, sample, radiograph_bytes
):
    # Neither is the warm-up's file, so the result cache cannot answer and the study is queued.
    if sample == "png":
        study_id, walk = traced_upload(radiograph_bytes, "chest.png")
    else:
        study_id, walk = traced_upload(dicom_with(StudyInstanceUID=generate_uid()), "chest.dcm")

    assert Study.objects.get(pk=study_id).status == StudyStatus.QUEUED
    assert "studies.services" in walk.modules and "studies.images" in walk.modules, walk_report(walk)
    assert walk.returns == [], walk_report(walk)


def test_the_workers_walk_from_the_task_to_the_stored_findings_returns_to_no_module(traced_upload):
    study_id, _ = traced_upload(nih(TWO_RADIOGRAPHS[1]), "chest.png")

    with walk_traced() as walk:
        analyze_study(str(study_id))  # the task's body, run here as a worker runs it

    assert Study.objects.get(pk=study_id).status == StudyStatus.DONE
    assert {"studies.analysis", "studies.image_results", "studies.analyser_runs"} <= set(walk.modules), (
        walk_report(walk)
    )
    assert walk.returns == [], walk_report(walk)
