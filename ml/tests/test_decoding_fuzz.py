"""Fuzzing the decoding path: whatever bytes arrive, decoding and screening either succeed or
raise the package's ImageError, quickly; nothing else escapes and nothing hangs."""

from __future__ import annotations

import contextlib
import io

import numpy as np
from conftest import cxr_data_dir
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from ml.errors import ImageError
from ml.images.decoding import decode_radiograph
from ml.images.screening import screen_radiograph

FUZZ_SETTINGS = settings(
    max_examples=120, deadline=2000, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


def small_png() -> bytes:
    pixels = np.asarray(
        Image.open(cxr_data_dir() / "nih" / "00030012_000.png").convert("L").resize((300, 300))
    )
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def small_jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.open(io.BytesIO(small_png())).save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


SEEDS = {
    "png": small_png(),
    "jpeg": small_jpeg(),
    "dicom": (cxr_data_dir() / "dicom" / "siim-sample.dcm").read_bytes(),
}


@st.composite
def mutated_files(draw: st.DrawFn) -> bytes:
    """A real file with bytes overwritten, cut short or inserted: the shapes real corruption takes."""
    data = bytearray(SEEDS[draw(st.sampled_from(sorted(SEEDS)))])
    for _ in range(draw(st.integers(1, 8))):
        operation = draw(st.sampled_from(["overwrite", "truncate", "insert"]))
        position = draw(st.integers(0, max(len(data) - 1, 0)))
        if operation == "overwrite":
            data[position : position + 4] = draw(st.binary(min_size=1, max_size=4))
        elif operation == "truncate":
            del data[position:]
        else:
            data[position:position] = draw(st.binary(min_size=1, max_size=16))
    return bytes(data)


def decode_and_screen(data: bytes) -> None:
    with contextlib.suppress(ImageError):
        screen_radiograph(decode_radiograph(data))


@FUZZ_SETTINGS
@given(st.binary(max_size=4096))
def test_random_bytes_never_crash_the_decoder(data):
    decode_and_screen(data)


@FUZZ_SETTINGS
@given(mutated_files())
def test_corrupted_radiographs_never_crash_the_decoder(data):
    decode_and_screen(data)
