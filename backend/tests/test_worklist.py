"""The worklist: GET /api/studies/ ordered for triage and filtered by status, positive finding and day."""

import datetime

import pytest
from django.utils import timezone

from studies.models import Study
from tests.factories import StudyFactory, add_findings
from tests.test_auth import assert_error_shape

pytestmark = pytest.mark.django_db


def uploaded(owner, days_ago: int, findings: dict[str, float] | None = None, status: str = "done") -> Study:
    study = StudyFactory(owner=owner, status=status)
    # created_at is auto_now_add: set the day afterwards, as an upload on that day would have it.
    # Read on arrival, so that triage orders these by score alone (tests/test_triage.py lifts the
    # studies left unread).
    created_at = timezone.now() - datetime.timedelta(days=days_ago)
    Study.objects.filter(pk=study.pk).update(created_at=created_at, read_at=created_at)
    if findings:
        add_findings(study, findings)
    return study


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [study["id"] for study in response.json()["results"]]


@pytest.fixture
def worklist(clinician):
    return {
        "low": uploaded(clinician, 1, {"Cardiomegaly": 0.2, "Effusion": 0.1}),
        "high": uploaded(clinician, 3, {"Cardiomegaly": 0.9, "Effusion": 0.3}),
        "middle": uploaded(clinician, 2, {"Cardiomegaly": 0.4, "Effusion": 0.7}),
        "queued": uploaded(clinician, 0, status="queued"),
    }


def test_ordering_by_top_probability_puts_the_most_suspicious_study_first_and_unanalysed_last(
    clinician, client_for, worklist
):
    order = ids(client_for(clinician).get("/api/studies/?ordering=-top_probability"))
    assert order == [str(worklist[name].id) for name in ("high", "middle", "low", "queued")]


def test_triage_by_calibrated_score_puts_a_finding_far_above_a_tiny_threshold_first(clinician, client_for):
    # torchxrayvision's NIH thresholds range from 0.0004 to 0.11: a raw 0.05 against 0.0004 is far
    # past its threshold, a raw 0.08 against 0.11 is below it. Raw probability ranks them wrongly.
    past_its_threshold = uploaded(clinician, 1)
    add_findings(past_its_threshold, {"Hernia": 0.05}, threshold=0.0004)
    below_its_threshold = uploaded(clinician, 2)
    add_findings(below_its_threshold, {"Infiltration": 0.08}, threshold=0.11)
    client = client_for(clinician)
    expected = [str(past_its_threshold.id), str(below_its_threshold.id)]
    assert ids(client.get("/api/studies/?ordering=-top_score")) == expected
    assert ids(client.get("/api/studies/?ordering=-top_probability")) == expected[::-1]
    [first, _] = client.get("/api/studies/?ordering=-top_score").json()["results"]
    assert first["top_finding"]["label"] == "Hernia"
    assert first["top_finding"]["calibrated_score"] > 0.5 > first["top_finding"]["probability"]


def test_default_ordering_is_newest_first_and_oldest_first_on_request(clinician, client_for, worklist):
    newest = [str(worklist[name].id) for name in ("queued", "low", "middle", "high")]
    assert ids(client_for(clinician).get("/api/studies/")) == newest
    assert ids(client_for(clinician).get("/api/studies/?ordering=created_at")) == newest[::-1]


def test_each_study_in_the_worklist_carries_its_top_finding_and_positive_labels(
    clinician, client_for, worklist
):
    results = {study["id"]: study for study in client_for(clinician).get("/api/studies/").json()["results"]}
    middle = results[str(worklist["middle"].id)]
    assert middle["top_finding"] == {"label": "Effusion", "probability": 0.7, "calibrated_score": 0.7}
    assert middle["positive_labels"] == ["Effusion"]
    assert results[str(worklist["queued"].id)]["top_finding"] is None
    assert results[str(worklist["queued"].id)]["positive_labels"] == []


def test_positive_filter_keeps_studies_with_that_finding_above_threshold(clinician, client_for, worklist):
    client = client_for(clinician)
    assert ids(client.get("/api/studies/?positive=Cardiomegaly")) == [str(worklist["high"].id)]
    assert ids(client.get("/api/studies/?positive=Effusion")) == [str(worklist["middle"].id)]
    assert set(ids(client.get("/api/studies/?positive=any"))) == {
        str(worklist["high"].id),
        str(worklist["middle"].id),
    }
    assert ids(client.get("/api/studies/?positive=Hernia")) == []


def test_date_filters_include_both_whole_days(clinician, client_for, worklist):
    today = timezone.now().date()
    after = (today - datetime.timedelta(days=2)).isoformat()
    before = (today - datetime.timedelta(days=1)).isoformat()
    response = client_for(clinician).get(f"/api/studies/?created_after={after}&created_before={before}")
    assert set(ids(response)) == {str(worklist["middle"].id), str(worklist["low"].id)}


def test_filters_combine_with_ordering_and_ownership(clinician, other_clinician, client_for, worklist):
    uploaded(other_clinician, 1, {"Cardiomegaly": 0.99})
    response = client_for(clinician).get("/api/studies/?status=done&positive=any&ordering=-top_probability")
    assert ids(response) == [str(worklist["high"].id), str(worklist["middle"].id)]


@pytest.mark.parametrize(
    "query",
    [
        "ordering=probability",
        "positive=Broken_Leg",
        "positive=Cardio;megaly",
        "created_after=yesterday",
        "created_before=2025-13-01",
        "created_after=2025-02-01&created_before=2025-01-01",
        "status=bogus",
    ],
)
def test_bad_worklist_query_is_400(clinician, client_for, query):
    assert_error_shape(client_for(clinician).get(f"/api/studies/?{query}"), 400)
