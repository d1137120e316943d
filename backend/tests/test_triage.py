"""Triage that cannot starve a study: every triage order lifts the studies unread past
CXR_TRIAGE_MAX_WAIT_MINUTES above the rest, and the worklist says why a study is where it is."""

import datetime
import random

import pytest
from django.utils import timezone

from studies.models import Study
from studies.selectors import study_list
from tests.factories import StudyFactory, add_findings

pytestmark = pytest.mark.django_db

LIMIT_MINUTES = 60
TRIAGE_ORDERS = ("-top_score", "-top_probability", "-screener_probability")


@pytest.fixture(autouse=True)
def wait_limit(settings):
    settings.CXR_TRIAGE_MAX_WAIT_MINUTES = LIMIT_MINUTES


def arrived(owner, at: datetime.datetime, cardiomegaly: float | None, status: str = "done") -> Study:
    study = StudyFactory(owner=owner, status=status)
    Study.objects.filter(pk=study.pk).update(created_at=at)
    if cardiomegaly is not None:
        add_findings(study, {"Cardiomegaly": cardiomegaly})
    return study


def minutes_ago(minutes: float) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(minutes=minutes)


@pytest.mark.parametrize("ordering", TRIAGE_ORDERS)
def test_a_low_score_study_unread_past_the_limit_comes_first_in_every_triage_order(
    clinician, client_for, ordering
):
    fresh_high = arrived(clinician, minutes_ago(5), 0.95)
    long_waiting_low = arrived(clinician, minutes_ago(LIMIT_MINUTES + 1), 0.05)
    fresh_middle = arrived(clinician, minutes_ago(2), 0.6)
    response = client_for(clinician).get(f"/api/studies/?ordering={ordering}")
    assert response.status_code == 200, response.content
    first = response.json()["results"][0]
    assert first["id"] == str(long_waiting_low.id)
    assert first["triage_reason"] == "waited_past_limit"
    lifted = datetime.datetime.fromisoformat(first["triage_lifted_since"])
    expected = Study.objects.get(pk=long_waiting_low.pk).created_at + datetime.timedelta(
        minutes=LIMIT_MINUTES
    )
    assert abs(lifted - expected) < datetime.timedelta(seconds=1)
    if ordering != "-screener_probability":  # These studies have no screener result: by date then.
        rest = [study["id"] for study in response.json()["results"][1:]]
        assert rest == [str(fresh_high.id), str(fresh_middle.id)]


def test_lifted_studies_come_longest_wait_first_then_the_rest_by_score_with_their_reasons(
    clinician, client_for
):
    waited_two_hours = arrived(clinician, minutes_ago(2 * LIMIT_MINUTES), 0.1)
    waited_just_past = arrived(clinician, minutes_ago(LIMIT_MINUTES + 1), 0.3)
    just_under_limit = arrived(clinician, minutes_ago(LIMIT_MINUTES - 1), 0.2)
    high = arrived(clinician, minutes_ago(1), 0.9)
    not_analysed = arrived(clinician, minutes_ago(1), None, status="queued")
    results = client_for(clinician).get("/api/studies/?ordering=-top_score").json()["results"]
    assert [(study["id"], study["triage_reason"]) for study in results] == [
        (str(waited_two_hours.id), "waited_past_limit"),
        (str(waited_just_past.id), "waited_past_limit"),
        (str(high.id), "score"),
        (str(just_under_limit.id), "score"),
        (str(not_analysed.id), "not_scored"),
    ]
    assert [study["triage_lifted_since"] is None for study in results] == [False, False, True, True, True]


def test_opening_a_finished_study_ends_its_wait_and_it_falls_back_to_its_score(clinician, client_for):
    low = arrived(clinician, minutes_ago(LIMIT_MINUTES + 5), 0.05)
    high = arrived(clinician, minutes_ago(1), 0.9)
    client = client_for(clinician)
    assert client.get(f"/api/studies/{low.id}/").json()["read_at"] is not None
    results = client.get("/api/studies/?ordering=-top_score").json()["results"]
    assert [(study["id"], study["triage_reason"]) for study in results] == [
        (str(high.id), "score"),
        (str(low.id), "score"),
    ]


def test_opening_a_study_still_being_analysed_does_not_count_as_reading_it(clinician, client_for):
    queued = arrived(clinician, minutes_ago(LIMIT_MINUTES + 5), None, status="queued")
    client = client_for(clinician)
    assert client.get(f"/api/studies/{queued.id}/").json()["read_at"] is None
    [study] = client.get("/api/studies/?ordering=-top_score").json()["results"]
    assert study["triage_reason"] == "waited_past_limit"


def test_the_date_orders_are_not_changed_by_the_lift(clinician, client_for):
    old_low = arrived(clinician, minutes_ago(LIMIT_MINUTES + 5), 0.05)
    new_high = arrived(clinician, minutes_ago(1), 0.9)
    results = client_for(clinician).get("/api/studies/").json()["results"]
    assert [study["id"] for study in results] == [str(new_high.id), str(old_low.id)]
    assert results[1]["triage_reason"] == "waited_past_limit"


def simulate_reading(owner, *, minutes: int, seed: int) -> dict[str, float]:
    """A reader opens the first unread study of the triage worklist every minute, as fast as studies
    arrive, one a minute, nine in ten of them high-score, at random. Returns each study's wait in
    minutes (to the end of the simulation for those never read)."""
    rng = random.Random(seed)
    start = timezone.now() - datetime.timedelta(minutes=minutes)
    arrivals: dict[str, datetime.datetime] = {}
    waits: dict[str, float] = {}
    for minute in range(minutes):
        now = start + datetime.timedelta(minutes=minute)
        score = rng.uniform(0.01, 0.1) if rng.random() < 0.1 else rng.uniform(0.6, 0.99)
        arrivals[str(arrived(owner, now, score).id)] = now
        if minute < 3:
            continue  # The reader starts a little late: a backlog forms.
        first_unread = (
            study_list(user=owner, ordering="-top_score", now=now).filter(read_at__isnull=True).first()
        )
        if first_unread is not None:
            Study.objects.filter(pk=first_unread.pk).update(read_at=now)
            waits[str(first_unread.pk)] = (now - arrivals[str(first_unread.pk)]).total_seconds() / 60
    end = start + datetime.timedelta(minutes=minutes)
    for study_id, arrival in arrivals.items():
        waits.setdefault(study_id, (end - arrival).total_seconds() / 60)
    return waits


def test_under_a_stream_of_high_score_studies_no_study_waits_much_beyond_the_limit(clinician):
    waits = simulate_reading(clinician, minutes=4 * LIMIT_MINUTES, seed=7)
    # A lifted study waits at most for the studies lifted before it: a few minutes past the limit.
    assert max(waits.values()) <= LIMIT_MINUTES + 5, sorted(waits.values())[-5:]


def test_the_same_stream_triaged_by_score_alone_starves_the_low_score_studies(clinician, settings):
    # A limit longer than the simulation is triage by score alone: what the lift prevents.
    settings.CXR_TRIAGE_MAX_WAIT_MINUTES = 10 * 4 * LIMIT_MINUTES
    waits = simulate_reading(clinician, minutes=4 * LIMIT_MINUTES, seed=7)
    assert max(waits.values()) > 2 * LIMIT_MINUTES
