"""The web process must stay light: no deep-learning runtime is loaded where uploads are taken in."""

import os
import subprocess
import sys

import pytest
from django.conf import settings

from tests.test_worker_end_to_end import worker_database_url

CHECK = """
import sys
import django
django.setup()
import config.urls
from studies.inference import active_model_card, analysis_pipeline
from studies.images import intake_or_refuse
from studies.uploads import PNG, ReceivedUpload
from health.checks import check_model
card = active_model_card()
assert check_model()["ok"], check_model()
pipeline = analysis_pipeline()
pipeline.card("classifier")  # the result cache's key, as studies.images.images_store reads it
upload = ReceivedUpload(filename="chest.png", file_type=PNG, data=open(sys.argv[1], "rb").read())
intake_or_refuse(upload, pipeline=pipeline, accept_lateral=False)
heavy = sorted(name for name in ("tensorflow", "keras", "openvino") if name in sys.modules)
print("loaded:", heavy)
sys.exit(1 if heavy else 0)
"""


@pytest.mark.django_db
def test_web_process_takes_an_upload_in_without_importing_tensorflow_or_openvino(radiograph_path):
    # The active card is the active deployment's (deployments), read from the test database.
    result = subprocess.run(
        [sys.executable, "-c", CHECK, str(radiograph_path)],
        cwd=settings.BACKEND_DIR,
        env={**os.environ, "DATABASE_URL": worker_database_url()},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
