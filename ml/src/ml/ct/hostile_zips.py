"""Hostile zips for the tests of the CT intake, built in milliseconds without holding what they inflate to.

``zeros_bomb`` is a valid zip of one member inflating to gigabytes of zeros in about a
thousandth of that (deflate's best ratio): its compressed stream is one deflated megabyte of
zeros repeated, since after a full flush the compressor starts afresh and deflates the same
input to the same bytes; its CRC is computed without the zeros (``crc32_of_zeros``). Sizes
in the zip's headers may be set to lie.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

from ml.ct.zip_members import MAX_ZIP_MEMBERS

_ZEROS_CHUNK = 1 << 20
_DICOM_PREAMBLE = bytes(128) + b"DICM"
_DEFLATED = 8
_ZIP_VERSION = 20
# 1 January 1980, the first day a zip can say.
_DOS_DATE = (1 << 5) | 1


def zeros_bomb(
    inflated_bytes: int = 2 << 30,
    *,
    name: str = "bomb.dcm",
    dicom_mark: bool = False,
    declared_size: int | None = None,
) -> bytes:
    """A zip of one member of ``inflated_bytes`` zeros (a multiple of 1 MiB), or of DICOM's
    preamble and mark followed by zeros with ``dicom_mark``; ``declared_size`` puts another
    uncompressed size in both headers (the CRC is then the declared prefix's, as a forger's)."""
    if inflated_bytes % _ZEROS_CHUNK:
        raise ValueError("The bomb inflates to whole mebibytes.")
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = _DICOM_PREAMBLE if dicom_mark else b""
    opening = compressor.compress(head) + compressor.flush(zlib.Z_FULL_FLUSH) if head else b""
    block = compressor.compress(bytes(_ZEROS_CHUNK)) + compressor.flush(zlib.Z_FULL_FLUSH)
    blocks = inflated_bytes // _ZEROS_CHUNK
    stream = opening + block * blocks + compressor.flush()
    size = len(head) + inflated_bytes
    declared = size if declared_size is None else declared_size
    crc = crc32_of_zeros(declared - len(head) if declared > len(head) else 0, zlib.crc32(head[:declared]))
    return one_member_zip(name, stream, crc=crc, size=declared)


def one_member_zip(name: str, deflated: bytes, *, crc: int, size: int) -> bytes:
    """A zip (no zip64) holding ``deflated`` as one member that declares ``size`` and ``crc``."""
    encoded = name.encode()
    fields = (_ZIP_VERSION, 0, _DEFLATED, 0, _DOS_DATE, crc, len(deflated), size, len(encoded))
    local = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", *fields, 0) + encoded
    central = (
        struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", _ZIP_VERSION, *fields, 0, 0, 0, 0, 0, 0) + encoded
    )
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 1, 1, len(central), len(local) + len(deflated), 0)
    return local + deflated + central + end


def crc32_of_zeros(length: int, crc: int = 0) -> int:
    """``zlib.crc32(bytes(length), crc)`` without making the bytes.

    Appending zeros maps a CRC affinely (over GF(2)); the map for 2**k zeros is the one for
    2**(k-1) applied twice, so ``length`` zeros take one map per set bit of ``length``.
    """
    offset = zlib.crc32(b"\0", 0)
    columns = [zlib.crc32(b"\0", 1 << bit) ^ offset for bit in range(32)]
    while length:
        if length & 1:
            crc = _apply(offset, columns, crc)
        # The map twice: its offset carried through it, and each column through its linear part.
        offset, columns = (
            _apply(offset, columns, offset),
            [_apply(offset, columns, c) ^ offset for c in columns],
        )
        length >>= 1
    return crc


def _apply(offset: int, columns: list[int], value: int) -> int:
    result = offset
    for bit in range(32):
        if value >> bit & 1:
            result ^= columns[bit]
    return result


def many_members_zip(count: int = MAX_ZIP_MEMBERS + 1) -> bytes:
    """A zip of ``count`` empty members: too many for one upload, however small."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for index in range(count):
            archive.writestr(f"slice-{index:05d}.dcm", b"")
    return buffer.getvalue()
