"""Feedback on findings (agree / disagree / unsure + note) and the agreement rates admins read."""

import pytest
from rest_framework.test import APIClient

from audit.models import AuditAction, AuditEvent
from feedback.models import FindingFeedback
from tests.factories import StudyFactory, add_findings
from tests.test_auth import assert_error_shape

pytestmark = pytest.mark.django_db


@pytest.fixture
def study(clinician):
    study = StudyFactory(owner=clinician)
    add_findings(study, {"Cardiomegaly": 0.8, "Effusion": 0.3})
    return study


def put(client, study, label: str, body: dict):
    return client.put(f"/api/studies/{study.id}/feedback/{label}/", body, format="json")


def test_clinician_gives_feedback_with_a_note_stored_with_user_and_time(clinician, client_for, study):
    response = put(
        client_for(clinician), study, "Cardiomegaly", {"verdict": "agree", "note": " Clear on PA. "}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["label"], body["verdict"], body["note"], body["username"]) == (
        "Cardiomegaly",
        "agree",
        "Clear on PA.",
        clinician.username,
    )
    assert body["created_at"] and body["updated_at"]
    stored = FindingFeedback.objects.get()
    assert (stored.user, stored.study, stored.label) == (clinician, study, "Cardiomegaly")


def test_changing_an_answer_keeps_one_current_answer_per_user_and_finding(clinician, client_for, study):
    client = client_for(clinician)
    put(client, study, "Effusion", {"verdict": "agree"})
    put(client, study, "Effusion", {"verdict": "disagree", "note": "Costophrenic angles sharp."})
    assert FindingFeedback.objects.count() == 1
    assert FindingFeedback.objects.get().verdict == "disagree"
    # Each answer given stays in the audit log.
    verdicts = [event.detail["verdict"] for event in AuditEvent.objects.filter(action=AuditAction.FEEDBACK)]
    assert sorted(verdicts) == ["agree", "disagree"]


def test_get_lists_my_answers_for_the_study_only(clinician, admin_user, client_for, study):
    put(client_for(clinician), study, "Effusion", {"verdict": "unsure"})
    put(client_for(admin_user), study, "Cardiomegaly", {"verdict": "agree"})
    mine = client_for(clinician).get(f"/api/studies/{study.id}/feedback/").json()
    assert [(item["label"], item["verdict"]) for item in mine] == [("Effusion", "unsure")]


def test_feedback_on_another_clinicians_study_is_404(other_clinician, client_for, study):
    assert_error_shape(put(client_for(other_clinician), study, "Effusion", {"verdict": "agree"}), 404)
    assert_error_shape(client_for(other_clinician).get(f"/api/studies/{study.id}/feedback/"), 404)
    assert not FindingFeedback.objects.exists()


def test_feedback_needs_a_token(study):
    assert_error_shape(put(APIClient(), study, "Effusion", {"verdict": "agree"}), 401)


@pytest.mark.parametrize(
    ("label", "body"),
    [
        ("Hernia", {"verdict": "agree"}),  # not a finding of this study
        ("Effusion", {"verdict": "maybe"}),
        ("Effusion", {}),
        ("Effusion", {"verdict": "agree", "note": "x" * 2001}),
    ],
    ids=["unknown-label", "bad-verdict", "no-verdict", "note-too-long"],
)
def test_bad_feedback_is_400_and_stores_nothing(clinician, client_for, study, label, body):
    assert_error_shape(put(client_for(clinician), study, label, body), 400)
    assert not FindingFeedback.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditAction.FEEDBACK).exists()


def test_note_of_2000_characters_is_accepted(clinician, client_for, study):
    assert (
        put(client_for(clinician), study, "Effusion", {"verdict": "agree", "note": "x" * 2000}).status_code
        == 200
    )


def test_feedback_before_the_analysis_is_done_is_400(clinician, client_for):
    queued = StudyFactory(owner=clinician, status="queued")
    assert_error_shape(put(client_for(clinician), queued, "Effusion", {"verdict": "agree"}), 400)


def test_agreement_rate_per_finding_counts_agree_over_agree_plus_disagree(
    clinician, other_clinician, admin_user, client_for
):
    answers = [
        (clinician, "Cardiomegaly", "agree"),
        (other_clinician, "Cardiomegaly", "agree"),
        (admin_user, "Cardiomegaly", "disagree"),
        (clinician, "Effusion", "unsure"),
    ]
    for user, label, verdict in answers:
        study = StudyFactory(owner=user)
        add_findings(study, {"Cardiomegaly": 0.8, "Effusion": 0.3})
        assert put(client_for(user), study, label, {"verdict": verdict}).status_code == 200
    # Feedback on a study of another model does not count for the active one.
    older = StudyFactory(owner=clinician, model_card={"name": "densenet121-chestxray14", "version": "0.0.1"})
    add_findings(older, {"Cardiomegaly": 0.9})
    put(client_for(clinician), older, "Cardiomegaly", {"verdict": "disagree"})

    response = client_for(admin_user).get("/api/model/agreement/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["version"] == "0.1.0-untrained-seed0"
    rows = {row["label"]: row for row in body["findings"]}
    assert len(rows) == 14
    assert rows["Cardiomegaly"] == {
        "label": "Cardiomegaly",
        "agree": 2,
        "disagree": 1,
        "unsure": 0,
        "answered": 3,
        "agreement_rate": pytest.approx(2 / 3),
    }
    assert rows["Effusion"]["agreement_rate"] is None
    assert rows["Effusion"]["unsure"] == 1
    assert rows["Hernia"]["answered"] == 0


def test_agreement_rates_are_for_admins_only(clinician, client_for):
    assert_error_shape(client_for(clinician).get("/api/model/agreement/"), 403)


def test_active_model_card_is_readable_by_signed_in_users(clinician, client_for):
    body = client_for(clinician).get("/api/model/").json()
    assert body["name"] == "densenet121-chestxray14"
    assert body["trained"] is False
    assert len(body["labels"]) == 14
    assert body["thresholds"]["Cardiomegaly"] == 0.5
    assert {"training_data", "validation", "weights_sha256", "input_size", "preprocessing"} <= set(body)
    assert_error_shape(APIClient().get("/api/model/"), 401)
