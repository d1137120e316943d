"""The model page's cards read as the study page's: the same weights digest, architectures in words."""

import pytest

pytestmark = pytest.mark.django_db


def test_the_active_untrained_cards_digest_is_the_one_its_studies_record(
    clinician, client_for, analysed_study
):
    card = client_for(clinician).get("/api/model/").json()
    assert card["trained"] is False
    assert len(card["weights_sha256"]) == 64
    assert card["weights_sha256"] == analysed_study.model_card["weights_sha256"]


def test_an_analysers_architecture_reads_as_words_on_the_model_and_study_pages(
    clinician, client_for, analysed_study
):
    cards = {card["kind"]: card for card in client_for(clinician).get("/api/model/analysers/").json()}
    assert cards["segmentation"]["architecture"] == (
        "unet-efficientnetb0 (decoder filters 256, 128, 64, 32, 16; encoder scale 1.0, 1.0)"
    )
    assert cards["screener"]["architecture"] == "inceptionv3"
    study = client_for(clinician).get(f"/api/studies/{analysed_study.id}/").json()
    assert "{" not in study["segmentation"]["analyser"]["architecture"]
