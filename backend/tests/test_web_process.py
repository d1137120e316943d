"""The web process must stay light: TensorFlow is loaded only where analyses run."""

import subprocess
import sys

from django.conf import settings

CHECK = """
import sys
import django
django.setup()
import config.urls
from studies.inference import active_model_card
from health.checks import check_model
card = active_model_card()
assert check_model()["ok"], check_model()
heavy = sorted(name for name in ("tensorflow", "keras") if name in sys.modules)
print("loaded:", heavy)
sys.exit(1 if heavy else 0)
"""


def test_web_process_serves_model_card_without_importing_tensorflow():
    result = subprocess.run(
        [sys.executable, "-c", CHECK], cwd=settings.BACKEND_DIR, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
