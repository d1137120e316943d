"""Site acceptance from the web app: a labelled set of real radiographs through the service's own
pipeline, run as a job by a real Celery worker, with labels planted by the test on the model's own
scores so that AUROC, sensitivity, calibration and the refusal rate have known answers; the zip's
refusals; the studies' verdicts as labels; the threshold profile bound to the run's weights."""

import csv
import dataclasses
import io
import time
from datetime import timedelta

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.utils import timezone
from PIL import Image

from audit.models import AuditAction, AuditEvent
from common.jobs import JOB_KINDS, JobStatus, jobs_reconcile
from feedback.models import FindingFeedback, Verdict
from ml.classifier.card import ModelCard
from ml.classifier.threshold_profile import ThresholdProfile
from ml.ct.hostile_zips import zeros_bomb
from ml.errors import WeightsError
from ml.evaluation.predict import score_images
from monitoring.feedback_cases import feedback_cases
from monitoring.models import AcceptanceRun
from studies.inference import active_model_card, ready_pipeline
from studies.models import Finding
from tests.conftest import NIH_DIR, analyse_here, queued_task_count
from tests.factories import AdminFactory, StudyFactory, UserFactory, add_findings, done_acceptance_run
from tests.test_ct_studies import zip_of
from tests.test_worker_end_to_end import celery_worker  # noqa: F401 (a fixture)

RUN_SECONDS = 240
URL = "/api/monitoring/acceptance-runs/"


def labels_csv(rows: dict[str, dict[str, int]]) -> bytes:
    findings = list(next(iter(rows.values())))
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["image", *findings])
    for image, labels in rows.items():
        writer.writerow([image, *(labels[finding] for finding in findings)])
    return text.getvalue().encode()


def flat_png() -> bytes:
    """A grey square: no chest radiograph, which the intake's screening refuses."""
    buffer = io.BytesIO()
    Image.fromarray(np.full((512, 512), 128, np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def post_run(client, archive: bytes, labels: bytes, **fields: str):
    return client.post(
        URL,
        {
            "images": SimpleUploadedFile("set.zip", archive),
            "labels": SimpleUploadedFile("labels.csv", labels),
            "targets": fields.get("targets", "auroc=0.80,sensitivity=0.90"),
            "threshold_rule": fields.get("threshold_rule", "youden"),
        },
        format="multipart",
    )


@pytest.fixture(scope="module")
def planted() -> dict:
    """The 18 NIH radiographs' scores from this process's pipeline (the worker's, built the same),
    and labels planted on them: the finding whose scores are all distinct is present on the 9
    highest-scoring films (AUROC 1) and a second on the 9 lowest (AUROC 0)."""
    paths = sorted(NIH_DIR.glob("*.png"))
    scored = score_images(None, paths, pipeline=ready_pipeline(), progress=False)
    assert not scored.refused and len(paths) == 18
    distinct = [len(np.unique(scored.scores[:, column])) for column in range(scored.scores.shape[1])]
    ranked = np.argsort(distinct)[::-1]
    first, second = (scored.card.labels[int(column)] for column in ranked[:2])
    columns = {label: scored.card.labels.index(label) for label in (first, second)}
    order = {label: np.argsort(scored.scores[:, column]) for label, column in columns.items()}
    top = set(order[first][9:].tolist())
    bottom = set(order[second][:9].tolist())
    rows = {path.name: {first: int(row in top), second: int(row in bottom)} for row, path in enumerate(paths)}
    return {
        "paths": paths,
        "first": first,
        "second": second,
        "scores": {label: scored.scores[:, column].astype(np.float64) for label, column in columns.items()},
        "truth": {label: np.array([rows[path.name][label] for path in paths]) for label in (first, second)},
        "rows": rows,
        "card": scored.card,
    }


def expected_ece(truth: np.ndarray, scores: np.ndarray) -> float:
    """ECE over ten equal bins, written out here: sum of |mean score - share positive| x bin share."""
    bins = np.minimum((scores * 10).astype(int), 9)
    return float(
        sum(
            abs(scores[bins == b].mean() - truth[bins == b].mean()) * np.mean(bins == b)
            for b in np.unique(bins)
        )
    )


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_an_acceptance_run_of_planted_labels_in_the_worker_gives_the_known_figures_and_verdicts(
    planted,
    celery_worker,  # noqa: F811 (the imported fixture)
    client_for,
    django_capture_on_commit_callbacks,
):
    admin = AdminFactory()
    client = client_for(admin)
    members = {f"set/{path.name}": path.read_bytes() for path in planted["paths"]}
    members["set/grey-square.png"] = flat_png()
    rows = {**planted["rows"], "grey-square.png": {planted["first"]: 0, planted["second"]: 1}}
    with django_capture_on_commit_callbacks(execute=True):
        created = post_run(client, zip_of(members), labels_csv(rows), threshold_rule="sensitivity:1")
    assert created.status_code == 202, created.content
    run_id = created.json()["id"]

    deadline = time.monotonic() + RUN_SECONDS
    while (run := client.get(f"{URL}{run_id}/").json())["status"] not in ("done", "failed"):
        if time.monotonic() > deadline:
            pytest.fail(f"The run did not finish in {RUN_SECONDS} s:\n{celery_worker.read_text()}")
        time.sleep(1)

    assert run["status"] == "done", run["message"]
    result = run["result"]
    first, second = planted["first"], planted["second"]
    assert (result["cases"], result["scored"]) == (19, 18)
    assert result["refusal_rate"] == pytest.approx(1 / 19)
    assert list(result["refused"]) == ["grey-square.png"]
    assert set(result["findings"]) == {first, second}
    good, bad = result["findings"][first], result["findings"][second]
    assert good["auroc"] == 1.0 and bad["auroc"] == 0.0
    low, high = good["auroc_ci95"]
    assert low <= 1.0 <= high
    for label, entry in ((first, good), (second, bad)):
        truth, scores = planted["truth"][label], planted["scores"][label]
        threshold = planted["card"].thresholds[label]
        assert entry["threshold"] == threshold
        assert entry["tpr"] == pytest.approx(np.mean(scores[truth == 1] >= threshold))
        assert entry["tnr"] == pytest.approx(np.mean(scores[truth == 0] < threshold))
        assert entry["calibration"]["ece"] == pytest.approx(expected_ece(truth, scores), abs=1e-5)
        assert entry["scores"] == pytest.approx(scores.round(6).tolist(), abs=1e-6)
        assert entry["roc"]["fpr"][0] == 0.0 and entry["roc"]["tpr"][-1] == 1.0
    # sensitivity:1 on the first finding: the threshold is its lowest positive's score.
    chosen = result["chosen_thresholds"][first]
    truth, scores = planted["truth"][first], planted["scores"][first]
    assert chosen["threshold"] == pytest.approx(scores[truth == 1].min(), abs=1e-6)
    assert (chosen["sensitivity"], chosen["specificity"]) == (1.0, 1.0)
    verdict = result["acceptance"]
    assert verdict["findings"][second]["meets_targets"] is False and verdict["accepted"] is False
    auroc_check = next(c for c in verdict["findings"][first]["checks"] if c["metric"] == "auroc")
    assert auroc_check == {"metric": "auroc", "target": "at least 0.8", "value": 1.0, "met": True}

    event = AuditEvent.objects.get(action=AuditAction.ACCEPTANCE_RUN)
    assert (event.actor, event.target_id, event.detail["cases"]) == (admin, str(run_id), 19)
    # The untrained model has no site thresholds: the profile is refused, saying why.
    refused = client.get(f"{URL}{run_id}/threshold-profile/")
    assert refused.status_code == 409 and "untrained" in refused.json()["message"]
    assert client.get(URL).json()[0] | {"accepted": False} == client.get(URL).json()[0]


def hostile_sets(planted: dict) -> list[tuple[str, bytes, bytes, int, str]]:
    first = planted["paths"][0]
    good_labels = labels_csv({first.name: {planted["first"]: 1}})
    return [
        ("climbing name", zip_of({f"../{first.name}": first.read_bytes()}), good_labels, 400, "'..'"),
        ("absolute name", zip_of({f"/tmp/{first.name}": first.read_bytes()}), good_labels, 400, "absolute"),
        (
            "not an image",
            zip_of({first.name: b"%PDF-1.4 not a radiograph" * 20}),
            good_labels,
            400,
            "PNG, JPEG",
        ),
        ("bomb", zeros_bomb(dicom_mark=True, name=first.name), good_labels, 413, "MiB"),
        (
            "unlabelled member",
            zip_of({first.name: first.read_bytes(), "extra.png": flat_png()}),
            good_labels,
            400,
            "no row",
        ),
        (
            "missing image",
            zip_of({first.name: first.read_bytes()}),
            labels_csv({first.name: {planted["first"]: 1}, "absent.png": {planted["first"]: 0}}),
            400,
            "not in the zip",
        ),
        (
            "labels not 0/1",
            zip_of({first.name: first.read_bytes()}),
            b"image,Mass\n" + first.name.encode() + b",7\n",
            400,
            "finding",
        ),
        ("damaged zip", b"PK\x03\x04 not really", good_labels, 400, "damaged"),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("case", range(8), ids=lambda i: f"set{i}")
def test_a_hostile_or_inconsistent_set_is_refused_whole_and_nothing_is_stored(case, planted, client_for):
    name, archive, labels, status, words = hostile_sets(planted)[case]
    answer = post_run(client_for(AdminFactory()), archive, labels)
    assert answer.status_code == status, (name, answer.content)
    assert words in answer.json()["message"], (name, answer.json())
    assert AcceptanceRun.objects.count() == 0 and not AuditEvent.objects.filter(
        action=AuditAction.ACCEPTANCE_RUN
    )


@pytest.mark.django_db
def test_bad_targets_rules_and_clinicians_are_refused(planted, client_for):
    first = planted["paths"][0]
    archive, labels = (
        zip_of({first.name: first.read_bytes()}),
        labels_csv({first.name: {planted["first"]: 1}}),
    )
    admin = client_for(AdminFactory())
    assert "Unknown target" in post_run(admin, archive, labels, targets="accuracy=0.9").json()["message"]
    assert post_run(admin, archive, labels, threshold_rule="0.5").status_code == 400
    assert post_run(client_for(UserFactory()), archive, labels).status_code == 403
    assert AcceptanceRun.objects.count() == 0


@pytest.mark.django_db
def test_the_studies_verdicts_label_each_finding_by_agreement_with_what_the_model_said():
    card = active_model_card()
    mass, nodule = "Mass", "Nodule"
    readers = [UserFactory(), UserFactory(), UserFactory()]
    said_positive, said_negative, split, unsure = (StudyFactory() for _ in range(4))
    for study in (said_positive, said_negative, split, unsure):
        add_findings(study, {mass: 0.9 if study is said_positive else 0.1, nodule: 0.2})
    FindingFeedback.objects.create(study=said_positive, label=mass, user=readers[0], verdict=Verdict.AGREE)
    FindingFeedback.objects.create(study=said_negative, label=mass, user=readers[0], verdict=Verdict.DISAGREE)
    FindingFeedback.objects.create(study=said_negative, label=nodule, user=readers[0], verdict=Verdict.AGREE)
    FindingFeedback.objects.create(study=split, label=mass, user=readers[0], verdict=Verdict.AGREE)
    FindingFeedback.objects.create(study=split, label=mass, user=readers[1], verdict=Verdict.DISAGREE)
    FindingFeedback.objects.create(study=unsure, label=mass, user=readers[2], verdict=Verdict.UNSURE)

    cases = {case.name: case.labels for case in feedback_cases(card=card, with_images=False)}

    # Agreeing with a positive finding makes it present; disagreeing with a negative one too; a tie
    # or only "unsure" leaves it unlabelled.
    assert cases == {str(said_positive.pk): {mass: 1}, str(said_negative.pk): {mass: 1, nodule: 0}}


@pytest.mark.django_db
def test_the_profile_of_a_trained_models_run_is_ml_s_format_bound_to_its_weights(client_for):
    card = dataclasses.replace(active_model_card(), trained=True, weights_sha256="c" * 64)
    run = done_acceptance_run(
        model_card=card.to_dict(),
        threshold_rule="sensitivity:0.9",
        result={
            "cases": 40,
            "threshold_rule": "sensitivity:0.9",
            "chosen_thresholds": {"Mass": {"threshold": 0.31}, "Nodule": {"threshold": None}},
        },
    )
    client = client_for(AdminFactory())

    answer = client.get(f"{URL}{run.pk}/threshold-profile/?name=north-wing")

    assert answer.status_code == 200 and 'filename="north-wing-v1.json"' in answer["Content-Disposition"]
    profile = ThresholdProfile.from_dict(answer.json())
    assert (profile.weights_sha256, profile.thresholds, profile.rule) == (
        "c" * 64,
        {"Mass": 0.31},
        "sensitivity:0.9",
    )
    assert profile.evidence["kept_card_threshold"] == [label for label in card.labels if label != "Mass"]
    assert profile.apply(ModelCard.from_dict(card.to_dict())).thresholds["Mass"] == 0.31
    with pytest.raises(WeightsError, match="was chosen for the weights cccccccccccc"):
        profile.apply(dataclasses.replace(card, weights_sha256="d" * 64))
    assert client.get(f"{URL}{run.pk}/threshold-profile/?name=Bad Name").status_code == 400
    assert client.get(f"{URL}999999/threshold-profile/").status_code == 404


@pytest.mark.django_db
def test_the_command_runs_the_studies_verdicts_through_the_pipeline_and_finds_their_stored_scores(
    clinician, client_for, upload
):
    client = client_for(clinician)
    studies = []
    for path in sorted(NIH_DIR.glob("*.png"))[:2]:
        created = upload(client, path.read_bytes(), path.name)
        assert created.status_code == 202, created.content
        analyse_here(created.json()["id"])
        studies.append(created.json()["id"])
    label = "Mass"
    # The first film's finding is present, the second's absent, whatever the model said of each.
    for study_id, present in zip(studies, (True, False), strict=True):
        said = Finding.objects.get(study_id=study_id, label=label)
        verdict = Verdict.AGREE if said.positive == present else Verdict.DISAGREE
        FindingFeedback.objects.create(study_id=study_id, label=label, user=clinician, verdict=verdict)
    admin = AdminFactory()
    out = io.StringIO()

    call_command(
        "acceptance_run",
        "--admin",
        admin.username,
        "--from-feedback",
        "--targets",
        "auroc=0.8",
        "--here",
        stdout=out,
    )

    run = AcceptanceRun.objects.get()
    assert run.status == JobStatus.DONE and run.source == "feedback"
    entry = run.result["findings"][label]
    stored = [Finding.objects.get(study_id=study_id, label=label).probability for study_id in studies]
    # Scored again through the intake and the classifier, each film gets the probability its study stored.
    assert entry["scores"] == pytest.approx(stored, abs=1e-5)
    assert (entry["positives"], entry["negatives"]) == (1, 1)
    assert entry["auroc"] == (1.0 if stored[0] > stored[1] else 0.0 if stored[0] < stored[1] else 0.5)
    assert set(run.result["findings"]) == {label}
    assert "of 1 findings meet the targets" in out.getvalue()


@pytest.mark.django_db
def test_an_acceptance_run_whose_worker_died_is_handed_over_again_then_failed_but_a_long_one_is_left(
    settings,
):
    run = AcceptanceRun.objects.create(
        created_by=AdminFactory(), source="upload", targets="auroc=0.8", threshold_rule="youden"
    )
    # Longer than a study may run, shorter than an acceptance run's own limit: still alive.
    busy = timezone.now() - timedelta(seconds=settings.CXR_RUNNING_DEADLINE_SECONDS + 60)
    AcceptanceRun.objects.filter(pk=run.pk).update(
        status=JobStatus.RUNNING, claimed_by="worker-1", attempts=1, started_at=busy
    )
    assert jobs_reconcile().requeued["acceptance_run"] == []

    dead = timezone.now() - timedelta(seconds=settings.CXR_ACCEPTANCE_TIME_LIMIT_SECONDS + 120)
    AcceptanceRun.objects.filter(pk=run.pk).update(started_at=dead)
    before = queued_task_count()
    assert jobs_reconcile().requeued["acceptance_run"] == [run.pk]
    assert queued_task_count() == before + 1
    run.refresh_from_db()
    assert (run.status, run.requeues) == (JobStatus.QUEUED, 1)

    AcceptanceRun.objects.filter(pk=run.pk).update(
        status=JobStatus.RUNNING, attempts=settings.CXR_MAX_ANALYSIS_ATTEMPTS, started_at=dead
    )
    assert jobs_reconcile().failed["acceptance_run"] == [run.pk]
    run.refresh_from_db()
    assert run.status == JobStatus.FAILED
    assert run.message == JOB_KINDS["acceptance_run"].gave_up_interrupted.format(
        attempts=settings.CXR_MAX_ANALYSIS_ATTEMPTS
    )


@pytest.mark.django_db
def test_an_acceptance_of_installed_candidate_weights_scores_the_set_with_them_not_the_active_model(
    clinician, client_for, upload, site_weights
):
    from deployments.services import model_version_install

    client = client_for(clinician)
    path = sorted(NIH_DIR.glob("*.png"))[0]
    created = upload(client, path.read_bytes(), path.name)
    analyse_here(created.json()["id"])
    study_id = created.json()["id"]
    said = Finding.objects.get(study_id=study_id, label="Mass")
    FindingFeedback.objects.create(study_id=study_id, label="Mass", user=clinician, verdict=Verdict.AGREE)
    _, candidate = site_weights
    version = model_version_install(weights_dir=str(candidate))
    admin = AdminFactory()

    call_command(
        "acceptance_run",
        *("--admin", admin.username, "--from-feedback", "--targets", "auroc=0.8"),
        *("--model-version", str(version.pk), "--here"),
        stdout=io.StringIO(),
    )

    run = AcceptanceRun.objects.get()
    assert run.status == JobStatus.DONE and run.model_version_id == version.pk
    assert (run.model_card["name"], run.model_card["version"]) == ("site-densenet", "2.0.0")
    # The candidate differs from the active network by a raised output bias: every score is higher.
    (score,) = run.result["findings"]["Mass"]["scores"]
    assert score > said.probability + 1e-3
    event = AuditEvent.objects.get(action=AuditAction.ACCEPTANCE_RUN)
    assert event.detail["model"] == "site-densenet 2.0.0"
    listed = client_for(admin).get(URL).json()
    assert listed[0]["model"] == "site-densenet 2.0.0" and listed[0]["model_version"] == version.pk
    with pytest.raises(CommandError, match="No installed weights have the id"):
        call_command(
            "acceptance_run",
            *(
                "--admin",
                admin.username,
                "--from-feedback",
                "--targets",
                "auroc=0.8",
                "--model-version",
                "999",
            ),
        )
