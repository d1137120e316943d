"""A study's key image is a reference to one of its images, not a copy: the study-level routes and
fields answer for whichever image it names; a CT series is one image of its own kind."""

import pytest

from ml.ct.synthetic import shuffled_series_zip
from studies.analysis import studies_analyze
from studies.models import Study
from tests.test_multi_image_studies import TWO_RADIOGRAPHS, two_image_study

pytestmark = pytest.mark.django_db


def body(response) -> bytes:
    assert response.status_code == 200, response
    return b"".join(response.streaming_content)


def test_the_study_level_routes_follow_the_key_image_when_the_study_names_another(
    clinician, client_for, upload_images
):
    client = client_for(clinician)
    study = two_image_study(client, upload_images)
    url = f"/api/studies/{study['id']}"
    label = study["findings"][0]["label"]
    assert study["key_image"] == 0 and study["original_filename"] == TWO_RADIOGRAPHS[0]
    assert body(client.get(f"{url}/image/")) == body(client.get(f"{url}/images/0/"))
    first_heatmap = body(client.get(f"{url}/heatmaps/{label}/"))
    assert first_heatmap == body(client.get(f"{url}/images/0/heatmaps/{label}/"))

    row = Study.objects.get(pk=study["id"])
    row.key_image = row.images.get(position=1)
    row.save(update_fields=["key_image"])

    detail = client.get(f"{url}/").json()
    second = detail["images"][1]
    assert detail["key_image"] == 1 and detail["original_filename"] == TWO_RADIOGRAPHS[1]
    assert (detail["width"], detail["height"], detail["metadata"]) == (
        second["width"],
        second["height"],
        second["metadata"],
    )
    assert body(client.get(f"{url}/image/")) == body(client.get(f"{url}/images/1/"))
    heatmap = body(client.get(f"{url}/heatmaps/{label}/"))
    assert heatmap == body(client.get(f"{url}/images/1/heatmaps/{label}/")) and heatmap != first_heatmap
    [listed] = client.get("/api/studies/").json()["results"]
    assert listed["original_filename"] == TWO_RADIOGRAPHS[1]


def test_a_ct_study_holds_its_series_as_one_image_of_kind_ct(clinician, client_for, upload):
    client = client_for(clinician)
    created = upload(client, shuffled_series_zip(5)[0], "series.zip")
    assert created.status_code == 202, created.content
    studies_analyze(study_id=created.json()["id"], claimant="test")

    study = client.get(f"/api/studies/{created.json()['id']}/").json()

    assert study["status"] == "done", study["message"]
    assert (study["kind"], study["image_count"], study["key_image"]) == ("ct", 1, 0)
    [image] = study["images"]
    assert (image["kind"], image["position"], image["findings"]) == ("ct", 0, [])
    assert (image["width"], image["height"]) == (study["width"], study["height"])
    [listed] = client.get("/api/studies/").json()["results"]
    assert (listed["kind"], listed["image_count"]) == ("ct", 1)
    assert body(client.get(f"/api/studies/{study['id']}/image/")) == body(client.get(image["image"]))
