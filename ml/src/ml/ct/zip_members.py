"""The members of an uploaded zip (a CT series' DICOM slices, a site's labelled radiographs),
inflated as a stream under limits.

A zip says how many members it holds and how large each one expands, and both may lie. So the
member count is taken from the end record before the directory is parsed; every member name is
checked first (one that climbs out of the archive, ``..``, an absolute path or a drive, refuses
the upload: it is never skipped); and each member is inflated chunk by chunk, its first bytes
checked for DICOM's mark before the rest is read, and reading stops at the first limit crossed:
its own size, the archive's total, or an expansion no DICOM series reaches. Refusals are
``ml.errors.ImageError``s naming the member; a refused zip costs a few chunks of memory and time.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
from collections.abc import Callable

from ml.errors import ImageDecodeError, ImageTooLargeError

# A series' 2,000 slices (ml.ct.series.MAX_SLICES), each perhaps with the resource fork macOS's
# archiver adds, folders and a DICOMDIR: every entry counts, hidden or not.
MAX_ZIP_MEMBERS = 2 * 2000 + 50
# A 2048 x 2048 slice of 32-bit pixels is 16 MiB; a multi-frame file larger than this zipped is
# uploaded as it is.
MAX_ZIP_MEMBER_BYTES = 64 << 20
# 2**28 voxels (ml.ct.series.MAX_VOXELS) of 16-bit CT are 512 MiB; twice that leaves room for headers.
MAX_ZIP_UNCOMPRESSED_BYTES = 1 << 30
# DICOM CT deflates two to five times; a member or an archive expanding more than this is a bomb.
MAX_COMPRESSION_RATIO = 20
# Below this much inflated no ratio is checked: small or blank test slices deflate far more.
RATIO_FREE_BYTES = 4 << 20
READ_CHUNK_BYTES = 1 << 20
# A DICOM file opens with a 128-byte preamble and "DICM".
_DICOM_MARK = slice(128, 132)
_END_RECORD = b"PK\x05\x06"
# The end record is 22 bytes after at most a 65,535-byte comment.
_END_RECORD_SEARCH = 22 + 0xFFFF
_DRIVE = re.compile(r"^[A-Za-z]:")


def dicom_members(data: bytes) -> list[tuple[str, bytes]]:
    """(name, bytes) of each DICOM member, in the archive's order, without archivers' hidden files
    and DICOMDIR; an ``ImageError`` for a damaged zip, a hostile name, a member that is not DICOM
    or anything over a limit."""
    return zip_members(data, head_check=_dicom_head_check)


def _dicom_head_check(name: str, head: bytes) -> None:
    if head[_DICOM_MARK] != b"DICM":
        raise ImageDecodeError(f"{name} in the zip file is not a readable DICOM file.")


def zip_members(data: bytes, *, head_check: Callable[[str, bytes], None]) -> list[tuple[str, bytes]]:
    """(name, bytes) of each member under the limits above, as ``dicom_members``; ``head_check``
    is given each member's name and first 132 bytes, and raises an ``ImageError`` for a member
    that is not of the kind the caller takes, before the rest of it is inflated."""
    _check_declared_count(data)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError) as error:
        raise ImageDecodeError("The zip file is damaged and cannot be opened.") from error
    with archive:
        if len(entries) > MAX_ZIP_MEMBERS:
            raise ImageTooLargeError(
                f"The zip file holds {len(entries)} files; at most {MAX_ZIP_MEMBERS} are read."
            )
        for entry in entries:
            _check_name(entry.filename)
        members = [entry for entry in entries if not entry.is_dir() and not _skipped(entry.filename)]
        if not members:
            raise ImageDecodeError("The zip file holds no files.")
        _check_declared_sizes(members)
        budget = _Budget(total_limit=min(MAX_ZIP_UNCOMPRESSED_BYTES, _ratio_limit(len(data))))
        return [
            (member.filename, _inflate(archive, member, budget, len(data), head_check)) for member in members
        ]


def _check_declared_count(data: bytes) -> None:
    """Refuse a zip whose end record declares too many entries before its directory is parsed."""
    end = data.rfind(_END_RECORD, max(0, len(data) - _END_RECORD_SEARCH))
    if end < 0 or end + 22 > len(data):
        return  # zipfile says it is damaged
    (declared,) = struct.unpack_from("<H", data, end + 10)
    # 0xFFFF defers to a zip64 record, which zipfile reads; its count is checked once parsed.
    if MAX_ZIP_MEMBERS < declared < 0xFFFF:
        raise ImageTooLargeError(f"The zip file holds {declared} files; at most {MAX_ZIP_MEMBERS} are read.")


def _check_name(name: str) -> None:
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")):
        why = "an absolute path"
    elif _DRIVE.match(name):
        why = "a drive"
    elif ".." in parts:
        why = "a '..' that leads out of the archive"
    else:
        return
    raise ImageDecodeError(
        f'The zip file holds a member named "{name}", with {why}: such names are refused, '
        "not skipped. Zip the files again from their own folder."
    )


def _skipped(name: str) -> bool:
    # Archivers add "__MACOSX/" resource forks and ".DS_Store" files beside the slices; "./" is no part.
    parts = [part for part in name.split("/") if part not in ("", ".")]
    hidden = any(part.startswith((".", "__MACOSX")) for part in parts)
    return hidden or (bool(parts) and parts[-1].upper() == "DICOMDIR")


def _check_declared_sizes(members: list[zipfile.ZipInfo]) -> None:
    """What the directory declares, refused before anything is inflated (inflating is checked too)."""
    for member in members:
        if member.file_size > MAX_ZIP_MEMBER_BYTES:
            raise ImageTooLargeError(
                f"{member.filename} in the zip file expands to {member.file_size / 2**20:,.0f} MiB, "
                f"over {MAX_ZIP_MEMBER_BYTES >> 20} MiB a file."
            )
    declared = sum(member.file_size for member in members)
    if declared > MAX_ZIP_UNCOMPRESSED_BYTES:
        raise ImageTooLargeError(
            f"The zip file expands to {declared / 2**30:.1f} GiB, "
            f"over {MAX_ZIP_UNCOMPRESSED_BYTES >> 30} GiB."
        )


def _ratio_limit(compressed_bytes: int) -> int:
    return max(MAX_COMPRESSION_RATIO * compressed_bytes, RATIO_FREE_BYTES)


class _Budget:
    """What the whole archive may still inflate to."""

    def __init__(self, total_limit: int) -> None:
        self.total_limit = total_limit
        self.inflated = 0

    def spend(self, count: int) -> None:
        self.inflated += count
        if self.inflated > self.total_limit:
            raise ImageTooLargeError(
                f"The zip file expands beyond {self.total_limit / 2**20:,.0f} MiB "
                f"(at most {MAX_ZIP_UNCOMPRESSED_BYTES >> 30} GiB, and at most {MAX_COMPRESSION_RATIO} "
                "times its own size): it is refused as a zip bomb."
            )


def _inflate(
    archive: zipfile.ZipFile,
    member: zipfile.ZipInfo,
    budget: _Budget,
    archive_bytes: int,
    head_check: Callable[[str, bytes], None],
) -> bytes:
    name = member.filename
    # zipfile reads no more compressed bytes than the directory declares, nor than the archive holds.
    limit = min(MAX_ZIP_MEMBER_BYTES, _ratio_limit(min(member.compress_size, archive_bytes)))
    chunks = []
    size = 0
    try:
        with archive.open(member) as handle:
            head = handle.read(_DICOM_MARK.stop)
            head_check(name, head)
            chunk = head
            while chunk:
                size += len(chunk)
                if size > limit:
                    raise ImageTooLargeError(
                        f"{name} in the zip file expands beyond {limit / 2**20:,.0f} MiB (at most "
                        f"{MAX_ZIP_MEMBER_BYTES >> 20} MiB a file, and at most {MAX_COMPRESSION_RATIO} "
                        "times its compressed size): it is refused as a zip bomb."
                    )
                budget.spend(len(chunk))
                chunks.append(chunk)
                chunk = handle.read(READ_CHUNK_BYTES)
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError) as error:
        raise ImageDecodeError(
            f"{name} in the zip file cannot be extracted (damaged, or not the size its header says)."
        ) from error
    if size != member.file_size:
        raise ImageDecodeError(f"{name} in the zip file is not the size its header says.")
    return b"".join(chunks)
