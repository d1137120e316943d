"""``make weights``: download a published checkpoint, check its SHA-256, import it.

    python -m ml.classifier.fetch --sha256 HASH [--url URL] [--format torchxrayvision] [--out DIR]

The address defaults to torchxrayvision's NIH DenseNet121. torchxrayvision publishes no
checksums, so no hash is pinned here: the operator passes the SHA-256 of the file they
trust (``make weights SHA256=...``) and the download is refused unless it matches. Where
the internet is unreachable it fails at once and says how to install weights by hand.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import socket
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from ml.classifier.importers import FORMATS, import_checkpoint
from ml.errors import WeightsError

DEFAULT_URL = (
    "https://github.com/mlmed/torchxrayvision/releases/download/v1/"
    "nih-densenet121-d121-tw-lr001-rot45-tr15-sc15-seed0-best.pt"
)
DEFAULT_OUT = Path("weights") / "torchxrayvision-nih"
# The published DenseNet121 checkpoints are about 28 MB; anything far larger is not one.
MAX_DOWNLOAD_BYTES = 512 * 1024**2
CONNECT_TIMEOUT_S = 5


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ml.classifier.fetch", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--sha256", default="", help="the SHA-256 the downloaded file must have")
    parser.add_argument("--format", default="torchxrayvision", choices=FORMATS, dest="checkpoint_format")
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"weights directory (default {DEFAULT_OUT})"
    )
    arguments = parser.parse_args(argv)
    try:
        fetch(arguments.url, arguments.sha256, arguments.checkpoint_format, arguments.out)
    except (WeightsError, FetchError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


class FetchError(Exception):
    """The checkpoint could not be downloaded or is not the one expected."""


def fetch(url: str, sha256: str, checkpoint_format: str, out: Path) -> None:
    file_name = Path(urllib.parse.urlparse(url).path).name
    by_hand = _by_hand(url, file_name, checkpoint_format, out)
    sha256 = sha256.strip().lower()
    if not re.fullmatch(r"[0-9a-f]{64}", sha256):
        raise FetchError(
            "no SHA-256 given: torchxrayvision publishes no checksums, so none is pinned here. Pass the "
            "hash of the file you trust, e.g. `make weights SHA256=<64 hex digits>`.\n" + by_hand
        )
    card = out / "card.json"
    if card.exists() and sha256 in card.read_text(encoding="utf-8", errors="replace"):
        print(f"{out} already holds the weights with SHA-256 {sha256}.")
        return
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise FetchError(f"{out} already exists and holds other files; choose another OUT or remove it.")
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme not in ("https", "http"):
        raise FetchError(f"{url} is not an http(s) address.")
    host = parsed.hostname or ""
    try:
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as error:
        raise FetchError(f"cannot reach {host} ({error}); this machine looks offline.\n{by_hand}") from error

    with tempfile.TemporaryDirectory(prefix="cxr-weights-") as scratch:
        checkpoint = Path(scratch) / file_name
        digest = _download(url, checkpoint)
        if digest != sha256:
            raise FetchError(f"{url} has SHA-256 {digest}, not the expected {sha256}; nothing was installed.")
        imported = import_checkpoint(checkpoint, checkpoint_format, out)
    print(f"Installed {imported.name} {imported.version} ({len(imported.labels)} findings) in {out}.")
    print(f"Use it: export CXR_WEIGHTS={out.resolve()}")


def _download(url: str, destination: Path) -> str:
    digest = hashlib.sha256()
    size = 0
    try:
        with urllib.request.urlopen(url, timeout=60) as response, open(destination, "wb") as handle:
            while chunk := response.read(1 << 20):
                size += len(chunk)
                if size > MAX_DOWNLOAD_BYTES:
                    raise FetchError(f"{url} is larger than {MAX_DOWNLOAD_BYTES:,} bytes: not a DenseNet121.")
                digest.update(chunk)
                handle.write(chunk)
    except (urllib.error.URLError, OSError) as error:
        raise FetchError(f"downloading {url} failed: {error}") from error
    return digest.hexdigest()


def _by_hand(url: str, file_name: str, checkpoint_format: str, out: Path) -> str:
    return (
        "To install weights by hand: on a machine with internet access download\n"
        f"  {url}\n"
        f"check its SHA-256 (sha256sum {file_name}), copy it here and run\n"
        f'  make ml ARGS="import-weights --format {checkpoint_format} {file_name} --out {out}"\n'
        f"then start the service with CXR_WEIGHTS={out}."
    )


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.exit(main())
