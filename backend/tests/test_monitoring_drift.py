"""Monitoring: a day's scores against the acceptance baseline (planted so that drift has a known
answer), the snapshot's drifted state and reasons, its gauges on /metrics and the alert rules."""

import datetime
import io
import re

import numpy as np
import pytest
import yaml
from django.core.management import call_command
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from feedback.models import FindingFeedback, Verdict
from ml.evaluation.drift import population_stability_index
from monitoring.drift import drift_snapshot_compute
from monitoring.metrics import EXPORTED_METRICS
from monitoring.models import AcceptanceRun, DriftSnapshot, IntakeRefusals
from studies.inference import active_model_card
from tests.factories import AdminFactory, StudyFactory, UserFactory, add_findings, done_acceptance_run
from tests.test_observability import DASHBOARD, TOKEN

pytestmark = pytest.mark.django_db
RULES = DASHBOARD.parent / "prometheus-rules.yml"
BASELINE = np.random.default_rng(7).beta(2, 5, size=400)


def baseline_run(label: str) -> AcceptanceRun:
    """A finished acceptance run of the active model whose scores of ``label`` are BASELINE."""
    return done_acceptance_run(
        model_card=active_model_card().to_dict(),
        result={"findings": {label: {"scores": BASELINE.round(6).tolist()}}},
    )


def studies_on(day: datetime.date, label: str, scores: np.ndarray) -> list:
    """Analysed studies created on ``day`` with these probabilities of ``label``."""
    studies = []
    owner = UserFactory()
    for score in scores:
        study = StudyFactory(owner=owner)
        study.created_at = timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))
        study.save(update_fields=["created_at"])
        add_findings(study, {label: float(score)})
        studies.append(study)
    return studies


@pytest.fixture
def label() -> str:
    return active_model_card().labels[0]


def test_a_day_of_shifted_scores_is_drifted_with_its_psi_and_a_day_like_the_baseline_is_not(label, settings):
    settings.CXR_DRIFT_MIN_STUDIES = 30
    baseline_run(label)
    alike, shifted = datetime.date(2026, 11, 2), datetime.date(2026, 11, 3)
    rng = np.random.default_rng(11)
    same_scores, moved_scores = rng.beta(2, 5, size=60), rng.beta(5, 2, size=60)
    studies_on(alike, label, same_scores)
    studies_on(shifted, label, moved_scores)

    quiet = drift_snapshot_compute(day=alike)
    moved = drift_snapshot_compute(day=shifted)

    assert quiet.studies == 60 and not quiet.drifted and quiet.reasons == []
    assert quiet.findings[label]["psi"] < settings.CXR_DRIFT_PSI_THRESHOLD
    assert moved.drifted
    psi = moved.findings[label]["psi"]
    assert psi == pytest.approx(population_stability_index(BASELINE.round(6), moved_scores))
    assert psi > settings.CXR_DRIFT_PSI_THRESHOLD and moved.findings[label]["ks_p_value"] < 1e-6
    assert any(
        reason.startswith(f"{label}: the scores' population stability index is {psi:.3f}")
        for reason in moved.reasons
    )
    # Planted: the share above the 0.5 threshold is the share of planted scores at or above it.
    assert moved.findings[label]["above_threshold"] == pytest.approx(float(np.mean(moved_scores >= 0.5)))


def test_too_few_studies_are_not_judged_and_refusals_and_agreement_are_the_days(label, settings):
    settings.CXR_DRIFT_MIN_STUDIES = 30
    settings.CXR_DRIFT_REFUSAL_RATE = 0.10
    baseline_run(label)
    day = datetime.date(2026, 11, 4)
    studies = studies_on(day, label, np.full(5, 0.99))
    IntakeRefusals.objects.create(day=day, refused=5)
    reader = UserFactory()
    for study, verdict in zip(studies, [Verdict.AGREE] * 3 + [Verdict.DISAGREE, Verdict.UNSURE], strict=True):
        FindingFeedback.objects.create(study=study, label=label, user=reader, verdict=verdict)

    snapshot = drift_snapshot_compute(day=day)

    assert snapshot.refusal_rate == 0.5 and snapshot.findings[label]["agreement"] == 0.75
    # Five studies of wildly shifted scores: too few to judge the scores, but the refusals speak.
    assert snapshot.drifted and snapshot.reasons == [
        "The intake refused 50.0% of the day's radiographs (over 10.0%)."
    ]


def test_the_command_computes_a_day_and_the_page_lists_it_for_admins_only(label, client_for):
    baseline_run(label)
    day = timezone.localdate() - datetime.timedelta(days=1)
    studies_on(day, label, np.full(3, 0.2))
    out = io.StringIO()
    call_command("drift_snapshot", "--date", day.isoformat(), stdout=out)
    assert f"{day}: 3 studies, not drifted." in out.getvalue()

    admin = client_for(AdminFactory())
    body = admin.get("/api/monitoring/drift/?days=7").json()
    assert [snapshot["day"] for snapshot in body["snapshots"]] == [day.isoformat()]
    assert body["thresholds"]["psi"] == 0.25 and body["trained"] is False
    assert admin.get("/api/monitoring/drift/?days=0").status_code == 400
    assert client_for(UserFactory()).get("/api/monitoring/drift/").status_code == 403


def test_the_latest_snapshot_is_on_metrics_and_each_alert_rule_names_an_exported_metric(label, settings):
    baseline_run(label)
    day = datetime.date(2026, 11, 5)
    studies_on(day, label, np.random.default_rng(3).beta(5, 2, size=40))
    IntakeRefusals.objects.create(day=day, refused=10)
    snapshot = drift_snapshot_compute(day=day)
    settings.CXR_METRICS_TOKEN = TOKEN

    scraped = APIClient().get("/api/metrics/", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content.decode()

    card = active_model_card()
    model = f'model="{card.name}",version="{card.version}"'
    # The exposition format sorts each sample's labels by name.
    psi = float(re.search(rf'^cxr_drift_psi\{{finding="{label}",{model}\}} (\S+)$', scraped, re.M).group(1))
    assert psi == pytest.approx(snapshot.findings[label]["psi"])
    assert re.search(rf"^cxr_drifted\{{{model}\}} 1\.0$", scraped, re.M)
    assert re.search(rf"^cxr_intake_refusal_rate\{{{model}\}} 0\.2$", scraped, re.M)
    exported = set(re.findall(r"^# TYPE (cxr_\w+) ", scraped, re.M))
    assert exported >= EXPORTED_METRICS

    groups = yaml.safe_load(RULES.read_text())["groups"]
    rules = [rule for group in groups for rule in group["rules"]]
    assert {rule["alert"] for rule in rules} >= {"CxrModelDrifted", "CxrIntakeRefusingMany"}
    for rule in rules:
        named = set(re.findall(r"\bcxr_\w+", rule["expr"]))
        base = {re.sub(r"_(total|bucket|count|sum)$", "", name) for name in named}
        assert named and (named | base) & (exported | {"cxr_task_failures"}), rule["alert"]
        assert base <= exported | {"cxr_task_failures", "cxr_queue_depth"}, rule["alert"]
    assert DriftSnapshot.objects.count() == 1


def test_a_radiograph_the_intake_refuses_counts_in_the_days_refusal_rate(
    client_for, upload, radiograph_bytes
):
    grey = io.BytesIO()
    Image.fromarray(np.full((512, 512), 128, np.uint8)).save(grey, format="PNG")
    client = client_for(UserFactory())
    assert upload(client, grey.getvalue(), "grey.png").status_code == 422
    assert upload(client, grey.getvalue(), "grey-again.png").status_code == 422
    assert upload(client, radiograph_bytes).status_code == 202

    snapshot = drift_snapshot_compute(day=timezone.localdate())

    assert IntakeRefusals.objects.get(day=timezone.localdate()).refused == 2
    assert (snapshot.refused, snapshot.refusal_rate) == (2, pytest.approx(2 / 3))
