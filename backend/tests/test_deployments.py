"""Site threshold profiles and safe upgrades: install, activate, shadow, promote, roll back (issue 23).

Real PostgreSQL, Redis and a real Celery findings worker, on a real radiograph from
../shared/data/cxr, with a seeded network saved as trained weights (so that a profile can be bound
to its hash) and a second one that differs in one bias (other weights).
"""

import io
import json
import time
from pathlib import Path

import pydicom
import pytest
from django.conf import settings

from audit.models import AuditAction, AuditEvent
from deployments.models import DeploymentState, ThresholdProfileRecord
from ml.classifier.card import ModelCard
from ml.classifier.threshold_profile import profile_write
from studies import inference
from studies.models import ShadowResult, Study
from studies.result_cache import cached_result_get
from tests.test_pacs_dicom_out import write_exports
from tests.test_reports import pdf_text
from tests.test_worker_end_to_end import WorkerLogs, worker_environment, worker_process

ANALYSIS_SECONDS = 240
MODELS = "/api/admin/models/"


@pytest.fixture
def installed_weights(site_weights, settings, monkeypatch) -> Path:
    """The current weights as CXR_WEIGHTS (the boot default) for this process and its workers."""
    current, _ = site_weights
    settings.CXR_WEIGHTS = str(current)
    monkeypatch.setenv("CXR_WEIGHTS", str(current))
    monkeypatch.setattr(inference, "_pipeline", None)
    return current


def profile_file(folder: Path, *, card: ModelCard, thresholds: dict[str, float], name: str = "site") -> bytes:
    path = profile_write(
        folder, name=name, card=card, rule="sensitivity ≥ 0.9", thresholds=thresholds, evidence={"cases": 40}
    )
    return path.read_bytes()


def install_profile(client, content: bytes):
    return client.post(f"{MODELS}profiles/", {"file": io.BytesIO(content)}, format="multipart")


def card_of(weights: Path) -> ModelCard:
    return ModelCard.describe(weights)


@pytest.mark.django_db
def test_a_profile_for_other_weights_is_refused_with_400_and_nothing_changes(
    installed_weights, site_weights, admin_user, client_for, tmp_path
):
    client = client_for(admin_user)
    _, candidate = site_weights
    before = client.get(MODELS).json()

    other = install_profile(client, profile_file(tmp_path, card=card_of(candidate), thresholds={"Mass": 0.3}))

    assert other.status_code == 400, other.content
    body = other.json()
    assert "other weights" in body["message"]
    assert body["extra"]["weights_sha256"] == card_of(candidate).weights_sha256
    assert body["extra"]["active_weights_sha256"] == card_of(installed_weights).weights_sha256
    assert ThresholdProfileRecord.objects.count() == 0
    assert client.get(MODELS).json() == before
    assert not AuditEvent.objects.filter(
        action__in=[AuditAction.PROFILE_INSTALL, AuditAction.PROFILE_ACTIVATE]
    ).exists()


@pytest.mark.django_db
def test_a_profile_of_candidate_weights_installs_but_cannot_be_activated_on_the_active_ones(
    installed_weights, site_weights, admin_user, clinician, client_for, tmp_path
):
    from django.core.management import call_command

    _, candidate = site_weights
    call_command("model_version_install", str(candidate), stdout=io.StringIO())
    client = client_for(admin_user)
    installed = install_profile(
        client, profile_file(tmp_path, card=card_of(candidate), thresholds={"Mass": 0.3})
    )
    assert installed.status_code == 201, installed.content
    event = AuditEvent.objects.get(action=AuditAction.PROFILE_INSTALL)
    assert (event.actor_id, event.detail["profile"]) == (admin_user.pk, installed.json()["identity"])
    state_before = client.get(MODELS).json()

    refused = client.post(f"{MODELS}active/profile/", {"profile": installed.json()["id"]}, format="json")

    assert refused.status_code == 400, refused.content
    assert "was chosen for the weights" in refused.json()["message"]
    assert client.get(MODELS).json() == state_before
    assert not AuditEvent.objects.filter(action=AuditAction.PROFILE_ACTIVATE).exists()
    # Not a clinician's business.
    assert (
        client_for(clinician).post(f"{MODELS}active/profile/", {"profile": None}, format="json").status_code
        == 403
    )
    # Garbage is a clear 400 too.
    bad = install_profile(client, b'{"format": "cxr-threshold-profile"}')
    assert bad.status_code == 400 and "lacks" in bad.json()["message"]


@pytest.mark.django_db
def test_starting_and_stopping_a_shadow_is_audited_and_a_shadow_equal_to_the_active_is_refused(
    installed_weights, site_weights, admin_user, client_for
):
    from django.core.management import call_command

    _, candidate = site_weights
    call_command("model_version_install", str(candidate), stdout=io.StringIO())
    client = client_for(admin_user)
    overview = client.get(MODELS).json()
    active_version = overview["active"]["model_version"]["id"]
    candidate_version = next(v["id"] for v in overview["versions"] if v["version"] == "2.0.0")

    same = client.post(f"{MODELS}shadow/", {"model_version": active_version}, format="json")
    assert same.status_code == 400 and "is the active model" in same.json()["message"]
    assert client.delete(f"{MODELS}shadow/").status_code == 400

    started = client.post(f"{MODELS}shadow/", {"model_version": candidate_version}, format="json")
    assert started.status_code == 200, started.content
    assert started.json()["shadow"]["model_version"]["version"] == "2.0.0"
    stopped = client.delete(f"{MODELS}shadow/")
    assert stopped.status_code == 200 and stopped.json()["shadow"] is None

    events = AuditEvent.objects.filter(action__in=[AuditAction.SHADOW_START, AuditAction.SHADOW_STOP])
    assert [
        (event.action, event.detail["candidate"]["model"]) for event in events.order_by("created_at")
    ] == [
        (AuditAction.SHADOW_START, "site-densenet 2.0.0"),
        (AuditAction.SHADOW_STOP, "site-densenet 2.0.0"),
    ]


@pytest.mark.django_db
def test_after_a_promotion_to_other_weights_each_study_is_explained_by_the_weights_that_analysed_it(
    installed_weights, site_weights, admin_user, clinician, client_for, upload, radiograph_bytes
):
    from django.core.management import call_command

    from studies.explanations import explanation_compute
    from studies.models import Explanation
    from tests.conftest import analyse_here

    admin, doctor = client_for(admin_user), client_for(clinician)
    before = upload(doctor, radiograph_bytes).json()["id"]
    analyse_here(before)
    _, candidate = site_weights
    call_command("model_version_install", str(candidate), stdout=io.StringIO())
    candidate_version = next(v["id"] for v in admin.get(MODELS).json()["versions"] if v["version"] == "2.0.0")
    assert (
        admin.post(f"{MODELS}shadow/", {"model_version": candidate_version}, format="json").status_code == 200
    )
    assert admin.post(f"{MODELS}promote/").status_code == 200
    after = upload(doctor, radiograph_bytes).json()["id"]
    analyse_here(after)
    assert Study.objects.get(pk=after).model_card["version"] == "2.0.0"

    def explained_by(study_id: str) -> Explanation:
        asked = doctor.post(f"/api/studies/{study_id}/findings/Effusion/explanations/gradcam/")
        assert asked.status_code == 202, asked.content
        explanation = Explanation.objects.get(study_id=study_id, method="gradcam")
        explanation_compute(explanation_id=explanation.pk)
        explanation.refresh_from_db()
        return explanation

    # The study analysed before the promotion keeps the network that made its findings.
    assert explained_by(before).model_card["version"] == "1.0.0"
    assert explained_by(after).model_card["version"] == "2.0.0"
    # Weights no longer installed here: said, never explained by another network.
    gone = Study.objects.get(pk=before)
    gone.model_card = {**gone.model_card, "weights_sha256": "0" * 64}
    gone.save(update_fields=["model_card"])
    Explanation.objects.filter(study=gone).delete()
    failed = explained_by(before)
    assert failed.status == "failed" and "no longer installed" in failed.message


def wait_done(client, study_id: str, logs: WorkerLogs) -> dict:
    """The study once its findings are stored (only the findings worker runs: the analysers beside the
    classifier are not what these tests are about)."""
    deadline = time.monotonic() + ANALYSIS_SECONDS
    while time.monotonic() < deadline:
        study = client.get(f"/api/studies/{study_id}/").json()
        if study["status"] in ("done", "failed"):
            assert study["status"] == "done", study["message"]
            return study
        time.sleep(0.5)
    pytest.fail(f"Study {study_id} did not finish in {ANALYSIS_SECONDS} s:\n{logs.read_text()}")


def analysed(client, upload, content: bytes, logs: WorkerLogs, name: str = "chest.png") -> dict:
    created = upload(client, content, name)
    assert created.status_code in (201, 202), created.content
    return wait_done(client, created.json()["id"], logs)


def finding(study: dict, label: str) -> dict:
    return next(item for item in study["findings"] if item["label"] == label)


def flipping_threshold(probability: float, threshold: float) -> float:
    """A threshold on the other side of ``probability`` from ``threshold``: the verdict turns over."""
    return (probability + 1.0) / 2.0 if probability >= threshold else probability / 2.0


def fhir_thresholds(client, study_id: str) -> str:
    report = client.get(f"/api/studies/{study_id}/fhir/").json()
    device = next(item for item in report["contained"] if item["id"] == "model")
    return next(p["valueCode"][0]["text"] for p in device["property"] if p["type"]["text"] == "thresholds")


def sr_parameters(study_id: str, folder: Path) -> set[str]:
    folder.mkdir()
    sr = next(
        pydicom.dcmread(path)
        for path in write_exports(Study.objects.get(pk=study_id), folder)
        if pydicom.dcmread(path).Modality == "SR"
    )
    values: set[str] = set()

    def walk(item: pydicom.Dataset) -> None:
        for child in getattr(item, "ContentSequence", []):
            if (
                child.ValueType == "TEXT"
                and child.ConceptNameCodeSequence[0].CodeMeaning == "Algorithm Parameters"
            ):
                values.add(child.TextValue)
            walk(child)

    walk(sr)
    return values


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_profile_shadow_promote_rollback_through_a_real_worker_on_a_real_radiograph(
    installed_weights,
    media_root,
    tmp_path,
    admin_user,
    clinician,
    client_for,
    upload,
    radiograph_bytes,
    radiograph_jpeg,
):
    admin, doctor = client_for(admin_user), client_for(clinician)
    card = card_of(installed_weights)
    logs = WorkerLogs(tmp_path)
    with worker_process("findings", logs.paths["findings"], worker_environment(media_root)):
        # 1. The card's own thresholds: the boot default.
        first = analysed(doctor, upload, radiograph_bytes, logs)
        assert first["threshold_profile"] is None
        # A finding the network is unsure of, so that a threshold fits on either side of it.
        label = min(first["findings"], key=lambda item: abs(item["probability"] - 0.5))["label"]
        before = finding(first, label)
        site_threshold = flipping_threshold(before["probability"], before["threshold"])

        # 2. A site profile whose threshold for one finding lies on the other side of its probability.
        installed = install_profile(
            admin, profile_file(tmp_path / "profiles", card=card, thresholds={label: site_threshold})
        )
        assert installed.status_code == 201, installed.content
        assert installed.json()["identity"] == "site-v1"
        activated = admin.post(f"{MODELS}active/profile/", {"profile": installed.json()["id"]}, format="json")
        assert activated.status_code == 200, activated.content
        assert activated.json()["active"]["profile"]["identity"] == "site-v1"

        # The worker, not restarted, judges the same image under the profile: not from the cache.
        second = analysed(doctor, upload, radiograph_bytes, logs)
        assert second["cached"] is False
        assert second["threshold_profile"]["identity"] == "site-v1"
        under_profile = finding(second, label)
        assert under_profile["probability"] == pytest.approx(before["probability"])
        assert under_profile["threshold"] == pytest.approx(site_threshold)
        assert under_profile["positive"] is (not before["positive"])
        assert Study.objects.get(pk=first["id"]).threshold_profile is None  # old results keep theirs
        listed = {row["id"]: row for row in doctor.get("/api/studies/").json()["results"]}
        assert listed[second["id"]]["threshold_profile"]["identity"] == "site-v1"
        assert listed[first["id"]]["threshold_profile"] is None
        # Every output names the profile: PDF, FHIR, DICOM SR.
        assert "site-v1" in pdf_text(doctor.get(f"/api/studies/{second['id']}/report/"))
        assert "model card's own thresholds" in pdf_text(doctor.get(f"/api/studies/{first['id']}/report/"))
        assert "site-v1" in fhir_thresholds(doctor, second["id"])
        assert "threshold_profile=site-v1" in sr_parameters(second["id"], tmp_path / "sr-second")
        assert "threshold_profile=card" in sr_parameters(first["id"], tmp_path / "sr-first")

        # 3. A candidate in shadow: the same weights under a second profile that turns it back.
        candidate_profile = install_profile(
            admin, profile_file(tmp_path / "profiles", card=card, thresholds={label: before["threshold"]})
        )
        assert candidate_profile.json()["identity"] == "site-v2"
        version = activated.json()["active"]["model_version"]["id"]
        shadow = admin.post(
            f"{MODELS}shadow/",
            {"model_version": version, "profile": candidate_profile.json()["id"]},
            format="json",
        )
        assert shadow.status_code == 200, shadow.content

        third = analysed(doctor, upload, radiograph_jpeg, logs, "chest.jpg")
        assert third["threshold_profile"]["identity"] == "site-v1"
        stored = ShadowResult.objects.get(study_id=third["id"])
        assert stored.threshold_profile["identity"] == "site-v2"
        shadow_finding = next(item for item in stored.findings if item["label"] == label)
        assert shadow_finding["threshold"] == pytest.approx(before["threshold"])
        assert shadow_finding["probability"] == pytest.approx(finding(third, label)["probability"])
        # Never clinical output: not in the study, its PDF, FHIR, SR, nor the result cache.
        payload = json.dumps(doctor.get(f"/api/studies/{third['id']}/").json())
        assert "site-v2" not in payload
        assert finding(third, label)["threshold"] == pytest.approx(site_threshold)
        assert "site-v2" not in pdf_text(doctor.get(f"/api/studies/{third['id']}/report/"))
        assert "site-v2" not in json.dumps(doctor.get(f"/api/studies/{third['id']}/fhir/").json())
        assert "threshold_profile=site-v1" in sr_parameters(third["id"], tmp_path / "sr-third")
        sha = Study.objects.get(pk=third["id"]).key_image.image_sha256
        shadow_card = ModelCard.from_dict(stored.model_card)
        assert cached_result_get(card=shadow_card, image_sha256=sha) is None
        active_card = ModelCard.from_dict(Study.objects.get(pk=third["id"]).model_card)
        assert (
            cached_result_get(card=active_card, image_sha256=sha).threshold_profile["identity"] == "site-v1"
        )

        # The comparison: one study; per finding the verdicts and probabilities against the active's,
        # and a clinician who disagreed with the active verdict on the finding that differs.
        answered = doctor.put(
            f"/api/studies/{third['id']}/feedback/{label}/", {"verdict": "disagree"}, format="json"
        )
        assert answered.status_code == 200, answered.content
        (compared,) = admin.get(f"{MODELS}comparison/").json()
        assert compared["deployment"]["profile"]["identity"] == "site-v2"
        assert compared["studies"] == 1
        active_by_label = {item["label"]: item for item in third["findings"]}
        same = [item["positive"] == active_by_label[item["label"]]["positive"] for item in stored.findings]
        assert compared["overall"]["agreement_with_active"] == pytest.approx(sum(same) / len(same))
        per_label = {item["label"]: item for item in compared["findings"]}
        shadow_verdict = shadow_finding["positive"]
        clinician_verdict = not finding(third, label)["positive"]
        assert per_label[label]["clinician_answers"] == 1
        assert per_label[label]["agreement_with_clinicians"] == (
            1.0 if shadow_verdict == clinician_verdict else 0.0
        )
        assert per_label[label]["mean_absolute_difference"] == pytest.approx(0.0, abs=1e-9)

        # 4. Promote: the candidate analyses; old results keep theirs until an admin re-analyses.
        promoted = admin.post(f"{MODELS}promote/")
        assert promoted.status_code == 200, promoted.content
        assert promoted.json()["active"]["profile"]["identity"] == "site-v2"
        assert promoted.json()["previous"]["profile"]["identity"] == "site-v1"
        assert promoted.json()["shadow"] is None
        assert Study.objects.get(pk=third["id"]).threshold_profile["identity"] == "site-v1"
        reanalysed = admin.post(f"{MODELS}reanalyse/", {"study_ids": [third["id"]]}, format="json")
        assert reanalysed.status_code == 202 and reanalysed.json()["queued"] == [third["id"]]
        again = wait_done(doctor, third["id"], logs)
        assert again["threshold_profile"]["identity"] == "site-v2"
        assert finding(again, label)["threshold"] == pytest.approx(before["threshold"])
        assert Study.objects.get(pk=second["id"]).threshold_profile["identity"] == "site-v1"

        # 5. Roll back: the site-v1 results come back, from the cache they were kept in.
        rolled = admin.post(f"{MODELS}rollback/")
        assert rolled.status_code == 200, rolled.content
        assert rolled.json()["active"]["profile"]["identity"] == "site-v1"
        fourth = analysed(doctor, upload, radiograph_bytes, logs)
        assert fourth["cached"] is True and fourth["threshold_profile"]["identity"] == "site-v1"
        assert finding(fourth, label) == {**under_profile, "heatmap": finding(fourth, label)["heatmap"]}

    steps = AuditEvent.objects.filter(
        action__in=[
            AuditAction.PROFILE_ACTIVATE,
            AuditAction.SHADOW_START,
            AuditAction.MODEL_PROMOTE,
            AuditAction.MODEL_ROLLBACK,
        ]
    ).order_by("created_at")
    assert [(event.action, event.actor_id) for event in steps] == [
        (AuditAction.PROFILE_ACTIVATE, admin_user.pk),
        (AuditAction.SHADOW_START, admin_user.pk),
        (AuditAction.MODEL_PROMOTE, admin_user.pk),
        (AuditAction.MODEL_ROLLBACK, admin_user.pk),
    ]
    assert steps[0].detail["profile"] == "site-v1"
    assert steps[1].detail["candidate"]["profile"] == "site-v2"
    assert steps[2].detail["active"]["profile"] == "site-v2"
    assert steps[3].detail["active"]["profile"] == "site-v1"
    assert DeploymentState.objects.get().previous.profile.identity == "site-v2"
    assert str(installed_weights) == settings.CXR_WEIGHTS


@pytest.mark.django_db
def test_the_reanalyse_command_queues_finished_studies_only_and_says_what_it_left(
    django_capture_on_commit_callbacks,
):
    from django.core.management import call_command

    from tests.factories import StudyFactory

    done, running = StudyFactory(status="done"), StudyFactory(status="running")
    out = io.StringIO()
    # The broker's hand-over waits for the commit, which this test's transaction never makes.
    with django_capture_on_commit_callbacks():
        call_command("studies_reanalyse", str(done.id), str(running.id), stdout=out)

    assert "Queued 1 studies" in out.getvalue() and "1 left alone" in out.getvalue()
    done.refresh_from_db()
    running.refresh_from_db()
    assert (done.status, running.status) == ("queued", "running")
    event = AuditEvent.objects.get(action=AuditAction.STUDIES_REANALYSE)
    assert event.detail == {"queued": [str(done.id)], "asked": 2}


@pytest.mark.django_db
def test_an_admin_installs_weights_the_operator_put_under_the_weights_root_and_no_other_path(
    installed_weights, site_weights, settings, admin_user, clinician, client_for, tmp_path
):
    current, candidate = site_weights
    root = candidate.parent
    settings.CXR_WEIGHTS_ROOT = str(root)
    admin = client_for(admin_user)
    offered = {row["weights_dir"]: row for row in admin.get(f"{MODELS}weights/").json()}
    assert set(offered) == {str(current.resolve()), str(candidate.resolve())}
    assert offered[str(candidate.resolve())]["version"] == "2.0.0"
    assert offered[str(candidate.resolve())]["installed"] is False
    assert client_for(clinician).get(f"{MODELS}weights/").status_code == 403

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "card.json").write_text((candidate / "card.json").read_text())
    for refused in (str(outside), f"{root}/../{outside.name}", str(root), str(root / "missing"), "/etc"):
        answer = admin.post(f"{MODELS}weights/", {"weights_dir": refused}, format="json")
        assert answer.status_code == 400, (refused, answer.content)
        assert answer.json()["message"]
    assert not AuditEvent.objects.filter(action=AuditAction.MODEL_INSTALL).exists()

    installed = admin.post(f"{MODELS}weights/", {"weights_dir": str(candidate)}, format="json")
    assert installed.status_code == 200, installed.content
    assert "2.0.0" in {version["version"] for version in installed.json()["versions"]}
    assert admin.get(f"{MODELS}weights/").json()[1]["installed"] is True
    event = AuditEvent.objects.get(action=AuditAction.MODEL_INSTALL)
    assert event.actor_id == admin_user.pk and event.detail["model"] == "site-densenet 2.0.0"
