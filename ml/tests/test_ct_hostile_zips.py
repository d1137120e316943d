"""Hostile CT zips: bombs, lying sizes, too many members and names that climb out of the archive
are refused quickly, with little memory, and with a message that names what is wrong.

The bombs are built on the fly (``ml.ct.hostile_zips``: 2 GiB of zeros in a 2 MB zip, in
milliseconds); peak memory is Python's allocations as tracemalloc counts them, which include
every buffer zlib inflates into.
"""

from __future__ import annotations

import io
import time
import tracemalloc
import zipfile
from collections.abc import Callable

import numpy as np
import pytest

from ml.ct import zip_members
from ml.ct.hostile_zips import many_members_zip, zeros_bomb
from ml.ct.series import read_ct_series
from ml.ct.synthetic import ct_slice
from ml.errors import ImageDecodeError, ImageError, ImageTooLargeError

GIB = 1 << 30
MEMORY_LIMIT_BYTES = 100 << 20
# The target is "well under a second"; a refusal takes milliseconds, the margin is for a busy machine.
TIME_LIMIT_S = 1.0


def refusal_cost(data: bytes) -> tuple[ImageError, float, int]:
    """The refusal of ``data`` as a CT series, the seconds it took and the peak bytes it allocated."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(ImageError) as refusal:
            read_ct_series(data)
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return refusal.value, elapsed, peak


def assert_cheap(elapsed: float, peak: int) -> None:
    assert peak < MEMORY_LIMIT_BYTES, f"{peak / 2**20:.0f} MiB allocated"
    assert elapsed < TIME_LIMIT_S, f"{elapsed:.2f} s"


def slices_zip(names: list[str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for index, name in enumerate(names):
            archive.writestr(name, ct_slice(np.full((4, 4), index), z=float(index), instance=index + 1))
    return buffer.getvalue()


def test_the_bomb_builder_makes_a_valid_zip_that_inflates_to_what_it_says():
    data = zeros_bomb(8 << 20, dicom_mark=True)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        content = archive.read("bomb.dcm")  # zipfile checks the CRC
    assert len(content) == (8 << 20) + 132 and content[128:132] == b"DICM" and not any(content[132:])
    assert len(zeros_bomb()) < 3 << 20


def test_two_mb_zip_of_one_member_inflating_to_2_gib_of_zeros_is_refused_fast_with_little_memory():
    bomb = zeros_bomb(2 * GIB)
    assert len(bomb) < 3 << 20
    error, elapsed, peak = refusal_cost(bomb)
    assert isinstance(error, ImageTooLargeError) and "bomb.dcm" in str(error) and "2,048 MiB" in str(error)
    assert_cheap(elapsed, peak)


def test_bomb_declaring_a_plausible_size_is_refused_from_its_first_bytes_as_not_dicom():
    # 60 MiB declared is under the per-file cap: what the member is decides before it is inflated.
    error, elapsed, peak = refusal_cost(zeros_bomb(2 * GIB, declared_size=60 << 20))
    assert (
        isinstance(error, ImageDecodeError)
        and "bomb.dcm" in str(error)
        and "not a readable DICOM" in str(error)
    )
    assert_cheap(elapsed, peak)


def test_bomb_opening_as_dicom_and_declaring_a_plausible_size_is_stopped_by_its_compression_ratio():
    error, elapsed, peak = refusal_cost(zeros_bomb(2 * GIB, dicom_mark=True, declared_size=60 << 20))
    assert isinstance(error, ImageTooLargeError) and "bomb.dcm" in str(error) and "20 times" in str(error)
    assert_cheap(elapsed, peak)


def test_bomb_whose_headers_declare_a_small_member_is_not_inflated_past_the_declared_size():
    # zipfile stops at the declared 4 KiB: what is left is an empty DICOM file, refused as such.
    _, elapsed, peak = refusal_cost(zeros_bomb(2 * GIB, dicom_mark=True, declared_size=4096))
    assert_cheap(elapsed, peak)


def test_member_declaring_more_than_a_file_may_hold_is_refused_before_inflating():
    error, elapsed, peak = refusal_cost(zeros_bomb(8 << 20, dicom_mark=True, declared_size=3 * GIB))
    assert (
        isinstance(error, ImageTooLargeError) and "bomb.dcm" in str(error) and "64 MiB a file" in str(error)
    )
    assert_cheap(elapsed, peak)


def test_members_each_within_their_limits_that_together_inflate_too_far_are_stopped():
    # Three DICOM-marked members of 3 MiB of zeros: each under the size a member may reach
    # whatever its ratio, but the archive of a few kilobytes may not inflate to 9 MiB.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for index in range(3):
            archive.writestr(f"{index}.dcm", bytes(128) + b"DICM" + bytes(3 << 20))
    error, elapsed, peak = refusal_cost(buffer.getvalue())
    assert isinstance(error, ImageTooLargeError) and "The zip file expands beyond" in str(error)
    assert_cheap(elapsed, peak)


def test_zip_with_more_entries_than_an_upload_may_hold_is_refused_from_its_end_record():
    error, elapsed, peak = refusal_cost(many_members_zip())
    assert isinstance(error, ImageTooLargeError) and f"at most {zip_members.MAX_ZIP_MEMBERS}" in str(error)
    assert_cheap(elapsed, peak)


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/x.dcm",
        "slices/../../x.dcm",
        "../.hidden.dcm",
        "__MACOSX/../../x.dcm",
        "..\\..\\windows\\x.dcm",
        "/etc/x.dcm",
        "\\\\server\\share\\x.dcm",
        "C:/Windows/x.dcm",
        "c:x.dcm",
    ],
)
def test_member_name_leading_out_of_the_archive_refuses_the_upload_and_is_named(name):
    data = slices_zip(["a.dcm", "b.dcm", name, "c.dcm"])
    with pytest.raises(ImageDecodeError) as refusal:
        read_ct_series(data)
    assert f'"{name}"' in str(refusal.value)


@pytest.mark.parametrize("make", [lambda: slices_zip(["./a.dcm", "./b.dcm", "./c.dcm"])], ids=["dot-slash"])
def test_members_named_from_the_current_folder_are_read_not_dropped(make: Callable[[], bytes]):
    assert read_ct_series(make()).slices == 3


def test_hidden_files_and_dicomdir_beside_the_slices_are_still_skipped():
    data = slices_zip(["a.dcm", "b.dcm", "__MACOSX/._a.dcm", ".DS_Store", "series/DICOMDIR"])
    assert read_ct_series(data).slices == 2
