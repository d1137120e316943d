"""``make weights``: a checked download, a clear refusal offline or without a hash.

A local HTTP server stands in for GitHub, so nothing leaves the machine.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import threading

import pytest
from torch_writer import save_checkpoint, torchxrayvision_module

from ml.classifier.fetch import FetchError, fetch
from ml.classifier.registry import describe_active_model

NIH_FILE = "nih-densenet121-d121-tw-lr001-rot45-tr15-sc15-seed0-best.pt"


@pytest.fixture
def server(tmp_path):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *arguments: None  # type: ignore[attr-defined]
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_a_download_with_the_right_hash_is_imported(torchxrayvision_state, tmp_path, server):
    checkpoint = save_checkpoint(
        torchxrayvision_module(torchxrayvision_state), tmp_path / NIH_FILE, legacy=True
    )
    digest = hashlib.sha256(checkpoint.read_bytes()).hexdigest()
    out = tmp_path / "weights"
    fetch(f"{server}/{NIH_FILE}", digest, "torchxrayvision", out)
    card = describe_active_model(out)
    assert card.trained and card.source["sha256"] == digest and len(card.labels) == 14
    # Running it again finds the weights installed and does nothing.
    fetch(f"{server}/{NIH_FILE}", digest, "torchxrayvision", out)


def test_a_download_with_another_hash_installs_nothing(torchxrayvision_state, tmp_path, server):
    save_checkpoint(torchxrayvision_module(torchxrayvision_state), tmp_path / NIH_FILE)
    with pytest.raises(FetchError, match="not the expected"):
        fetch(f"{server}/{NIH_FILE}", "0" * 64, "torchxrayvision", tmp_path / "weights")
    assert not (tmp_path / "weights").exists()


def test_without_a_hash_or_offline_it_fails_at_once_and_says_how_to_install_by_hand(tmp_path):
    with pytest.raises(FetchError, match="no SHA-256 given") as missing:
        fetch("https://github.com/x/y.pt", "", "torchxrayvision", tmp_path / "weights")
    assert "import-weights --format torchxrayvision y.pt" in str(missing.value)
    # Port 9 on this machine has no server: the connection is refused at once, as offline.
    with pytest.raises(FetchError, match=r"cannot reach 127\.0\.0\.1") as offline:
        fetch("http://127.0.0.1:9/" + NIH_FILE, "a" * 64, "torchxrayvision", tmp_path / "weights")
    assert "To install weights by hand" in str(offline.value) and "sha256sum" in str(offline.value)
