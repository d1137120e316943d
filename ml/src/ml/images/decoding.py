"""Decode uploaded radiographs (PNG, JPEG and DICOM) into grey levels in [0, 1].

This is the single decoding entry point of the package: the web process, the worker and
the CLI all call ``decode_radiograph`` so that every path sees the same pixels. Whether a
decoded image is acceptable for the model is a separate question (``ml.images.screening``).
"""

from __future__ import annotations

import io
import struct
import warnings
import zlib
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ml.errors import ImageDecodeError, ImageTooLargeError, UnsupportedImageError
from ml.images import dicom
from ml.images.radiograph import MAX_PIXELS, MIN_SIDE, Radiograph

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

# A pixel whose colour channels differ by more than this (of 255) is coloured, not grey.
COLOUR_CHANNEL_SPREAD = 24

# Pillow's own guard is process-wide; lowering it to our cap means that even code paths
# outside this module refuse decompression bombs before allocating them.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS

ACCEPTED_FORMATS = ("PNG", "JPEG")

# Everything Pillow and its codecs raise on malformed input; all of it becomes one
# clinician-readable error.
_DECODER_ERRORS = (
    OSError,
    ValueError,
    SyntaxError,
    EOFError,
    TypeError,
    IndexError,
    KeyError,
    struct.error,
    zlib.error,
)
_TOO_LARGE = (Image.DecompressionBombError, Image.DecompressionBombWarning)


def image_format(data: bytes) -> str | None:
    """``png``, ``jpeg`` or ``dicom`` from the file's signature (never its name), else None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if dicom.is_dicom(data):
        return "dicom"
    return None


def decode_radiograph(
    data: bytes, *, dataset: Dataset | None = None, accept_lateral: bool = False
) -> Radiograph:
    """Decode a PNG, JPEG or DICOM file's bytes; raise ImageDecodeError for anything unreadable.

    ``dataset`` is a DICOM file already read by the caller (``ml.images.dicom.read_dataset``), so
    that it is not parsed again. ``accept_lateral``: a DICOM file whose View Position is lateral is
    decoded rather than refused (only a DICOM header says so; ``ml.images.dicom.decode_dicom``).
    """
    if not data:
        raise ImageDecodeError("The file is empty.")
    if dicom.is_dicom(data):
        return dicom.decode_dicom(dataset if dataset is not None else data, accept_lateral=accept_lateral)
    with warnings.catch_warnings():
        # Pillow only warns between MAX_IMAGE_PIXELS and twice that; we want a refusal.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=list(ACCEPTED_FORMATS))
        except UnidentifiedImageError as error:
            raise UnsupportedImageError("The file is not a PNG, JPEG or DICOM image.") from error
        except _TOO_LARGE as error:
            raise ImageTooLargeError(
                f"The image is too large (at most {MAX_PIXELS:,} pixels are accepted)."
            ) from error
        except _DECODER_ERRORS as error:
            raise ImageDecodeError("The image is truncated or corrupt.") from error
        with image:
            _check_header_size(image.width, image.height)
            try:
                image.load()
                if image.format == "JPEG":
                    # Phone and scanner JPEGs may be stored rotated with an EXIF orientation tag.
                    image = ImageOps.exif_transpose(image)
                return _to_radiograph(image)
            except ImageDecodeError:
                raise
            except _DECODER_ERRORS as error:
                raise ImageDecodeError("The image is truncated or corrupt.") from error


def _check_header_size(width: int, height: int) -> None:
    """Refuse images too large to decode safely or too small to be a radiograph, before decoding."""
    if width * height > MAX_PIXELS:
        raise ImageTooLargeError(
            f"The image is too large ({width}x{height} pixels; at most {MAX_PIXELS:,} pixels are accepted)."
        )
    if min(width, height) < MIN_SIDE:
        raise ImageDecodeError(
            f"The image is too small to be a radiograph ({width}x{height} pixels; "
            f"at least {MIN_SIDE} pixels a side are needed)."
        )


def _to_radiograph(image: Image.Image) -> Radiograph:
    """Convert a loaded Pillow image of any supported mode into grey levels in [0, 1]."""
    mode = image.mode
    if mode in ("I;16", "I;16L", "I;16B", "I"):
        # Mode "I" is how Pillow may hold 16-bit greyscale PNGs; PNG has no deeper greyscale.
        values = np.asarray(image).astype(np.float32)
        return Radiograph(pixels=_unit(values, 65535.0), bit_depth=16)
    if mode == "L":
        return Radiograph(pixels=_unit(np.asarray(image, dtype=np.float32), 255.0), bit_depth=8)
    if mode in ("1", "LA", "La"):
        grey = image.convert("L") if mode == "1" else image.getchannel("L")
        return Radiograph(pixels=_unit(np.asarray(grey, dtype=np.float32), 255.0), bit_depth=8)
    if mode in ("P", "PA", "RGB", "RGBA", "RGBa", "RGBX", "CMYK", "YCbCr"):
        rgb = np.asarray(image.convert("RGB"), dtype=np.float32)
        spread = rgb.max(axis=-1) - rgb.min(axis=-1)
        return Radiograph(
            pixels=_unit(_rgb_to_grey(rgb), 255.0),
            bit_depth=8,
            colour_fraction=float(np.mean(spread > COLOUR_CHANNEL_SPREAD)),
        )
    raise ImageDecodeError(f"The image's pixel format ({mode}) is not supported for radiographs.")


def _rgb_to_grey(rgb: np.ndarray) -> np.ndarray:
    """Grey levels of an RGB array: one channel when all three agree, else ITU-R BT.601 luma."""
    red, green, blue = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    # Radiographs exported as colour images usually repeat one grey channel; taking it as is
    # avoids the rounding a luma conversion would add.
    if np.array_equal(red, green) and np.array_equal(green, blue):
        return np.ascontiguousarray(red)
    return 0.299 * red + 0.587 * green + 0.114 * blue


def _unit(values: np.ndarray, full_scale: float) -> np.ndarray:
    """Scale raw grey levels by the bit depth's full scale into float32 [0, 1]."""
    return np.clip(values / np.float32(full_scale), 0.0, 1.0).astype(np.float32, copy=False)
