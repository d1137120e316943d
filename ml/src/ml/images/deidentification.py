"""Clean copies of PNG and JPEG files: the pixels as they came, none of the metadata.

EXIF, XMP, ICC profiles (whose description is free text), PNG text chunks (tEXt, iTXt, zTXt) and
JPEG comments can all carry a patient's name. As for DICOM files (``ml.images.dicom``), an
allow-list decides what is kept, so whatever a camera, scanner or export tool writes in an
unexpected place is dropped without anyone having to know of it. Nothing is decoded or re-encoded:
PNG chunks and JPEG segments are copied byte for byte, so the pixels stay bit-identical.

The text that was dropped is returned too, so that a caller can tell whether other things it
keeps (the upload's file name) repeat any of it.
"""

from __future__ import annotations

import re
import struct
import zlib
from dataclasses import dataclass

from PIL import Image

from ml.errors import ImageDecodeError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Chunks that shape the pixels or their display and hold no free text.
PNG_KEPT_CHUNKS = frozenset(
    {b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"sBIT", b"pHYs", b"bKGD"}
)
# Chunks whose payload is zlib-compressed after a header ending at this many NUL-separated fields.
PNG_COMPRESSED_TEXT = {b"zTXt": 1, b"iCCP": 1}

# JPEG markers: start of image, end of image, start of scan, restart markers (no length).
SOI, EOI, SOS = 0xD8, 0xD9, 0xDA
RST = range(0xD0, 0xD8)
APP0, APP14, COM = 0xE0, 0xEE, 0xFE
APP_MARKERS = range(0xE0, 0xF0)
# APP0 is JFIF (density, no text); APP14 is Adobe's colour transform, needed to decode some files.
JPEG_KEPT_APP = frozenset({APP0, APP14})
EXIF_ORIENTATION = 0x0112

# Runs of at least four letters or digits: the words a name, an id or a date is made of.
WORD = re.compile(r"[^\W_]{4,}")


@dataclass(frozen=True)
class CleanCopy:
    """The file without its metadata, and the words the metadata held."""

    data: bytes
    removed_words: frozenset[str]


def clean_copy(data: bytes, file_format: str) -> CleanCopy:
    """A PNG or JPEG file without metadata; raise ImageDecodeError if its structure is broken."""
    if file_format == "png":
        return clean_png(data)
    if file_format == "jpeg":
        return clean_jpeg(data)
    raise ValueError(f"No clean copy for {file_format!r} files.")


def words_of(*texts: bytes | str) -> frozenset[str]:
    """Lower-case words of free text, read as UTF-8, and as UTF-16 (ICC v4 and XP tags) by dropping NULs."""
    words: set[str] = set()
    for text in texts:
        if isinstance(text, bytes):
            candidates = (
                text.decode("utf-8", "ignore"),
                text.replace(b"\x00", b"").decode("utf-8", "ignore"),
            )
        else:
            candidates = (text,)
        for candidate in candidates:
            words.update(word.lower() for word in WORD.findall(candidate))
    return frozenset(words)


def clean_png(data: bytes) -> CleanCopy:
    if not data.startswith(PNG_SIGNATURE):
        raise ImageDecodeError("The PNG file has no PNG signature.")
    kept = [PNG_SIGNATURE]
    removed: list[bytes] = []
    position = len(PNG_SIGNATURE)
    while position + 8 <= len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        end = position + 12 + length
        if end > len(data):
            raise ImageDecodeError("The PNG file is truncated.")
        if kind in PNG_KEPT_CHUNKS:
            kept.append(data[position:end])
        else:
            removed.extend(png_chunk_text(kind, data[position + 8 : position + 8 + length]))
        position = end
        if kind == b"IEND":
            # Anything after the end (an appended file, a note) is not part of the image.
            break
    return CleanCopy(data=b"".join(kept), removed_words=words_of(*removed))


def png_chunk_text(kind: bytes, payload: bytes) -> list[bytes]:
    """The text a dropped chunk holds, decompressed where the chunk is compressed."""
    texts = [payload]
    fields = payload.split(b"\x00", 1)
    if kind in PNG_COMPRESSED_TEXT and len(fields) == 2:
        texts.append(inflate(fields[1][1:]))
    elif kind == b"iTXt" and len(fields) == 2 and len(fields[1]) >= 2 and fields[1][0] == 1:
        # keyword, compression flag and method, language tag, translated keyword, text.
        parts = fields[1][2:].split(b"\x00", 2)
        if len(parts) == 3:
            texts.append(inflate(parts[2]))
    return texts


def inflate(compressed: bytes) -> bytes:
    try:
        # Bounded: a text chunk that inflates past this is not text a person wrote.
        return zlib.decompressobj().decompress(compressed, 16 * 1024 * 1024)
    except zlib.error:
        return b""


def clean_jpeg(data: bytes) -> CleanCopy:
    if not data.startswith(b"\xff\xd8"):
        raise ImageDecodeError("The JPEG file has no start-of-image marker.")
    kept = [b"\xff\xd8"]
    removed: list[bytes] = []
    orientation: int | None = None
    position = 2
    while position < len(data):
        if data[position] != 0xFF:
            raise ImageDecodeError("The JPEG file is corrupt (a segment does not start with a marker).")
        marker = data[position + 1] if position + 1 < len(data) else EOI
        if marker == 0xFF:  # fill byte before a marker
            position += 1
            continue
        if marker == EOI:
            kept.append(b"\xff\xd9")
            break
        if position + 4 > len(data):
            raise ImageDecodeError("The JPEG file is truncated.")
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        end = position + 2 + length
        if end > len(data) or length < 2:
            raise ImageDecodeError("The JPEG file is truncated.")
        segment = data[position:end]
        payload = segment[4:]
        if marker == COM or (marker in APP_MARKERS and marker not in JPEG_KEPT_APP):
            removed.append(payload)
            if marker == 0xE1 and payload.startswith(b"Exif\x00\x00"):
                orientation = exif_orientation(payload) or orientation
        else:
            kept.append(segment)
        position = end
        if marker == SOS:
            # Entropy-coded data runs to the next marker that is neither a stuffed 0xFF00 nor a restart.
            scan_end = scan_data_end(data, position)
            kept.append(data[position:scan_end])
            position = scan_end
    if orientation not in (None, 1):
        # The orientation says how to turn the pixels upright: keep it (alone) so the stored copy
        # decodes as the upload did.
        kept.insert(1, orientation_segment(orientation))
    return CleanCopy(data=b"".join(kept), removed_words=words_of(*removed))


def scan_data_end(data: bytes, position: int) -> int:
    while True:
        position = data.find(b"\xff", position)
        if position < 0 or position + 1 >= len(data):
            raise ImageDecodeError("The JPEG file is truncated (no end of image).")
        following = data[position + 1]
        if following == 0x00 or following in RST or following == 0xFF:
            position += 1 if following == 0xFF else 2
            continue
        return position


def exif_orientation(payload: bytes) -> int | None:
    exif = Image.Exif()
    try:
        exif.load(payload[len(b"Exif\x00\x00") :])
    except Exception:  # A broken EXIF block is dropped like any other; it orients nothing.
        return None
    value = exif.get(EXIF_ORIENTATION)
    return int(value) if isinstance(value, int) and 1 <= value <= 8 else None


def orientation_segment(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = orientation
    body = exif.tobytes()  # b"Exif\0\0" and a TIFF header with this one tag
    return b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body
