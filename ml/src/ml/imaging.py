"""Decode uploaded radiographs (PNG, JPEG and DICOM) into grey levels in [0, 1].

This is the single decoding entry point of the package: the web process, the worker and
the CLI all call ``decode_radiograph`` so that every path sees the same pixels. Whether a
decoded image is acceptable for the model is a separate question (``ml.screening``).
"""

from __future__ import annotations

import io
import struct
import warnings
import zlib
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ml.errors import ImageDecodeError, ImageTooLargeError, UnsupportedImageError

# Radiographs are rarely larger than 4,300 x 4,300 detector pixels; 50 megapixels leaves room
# and still bounds the memory a malicious upload can make us allocate (4 bytes a pixel).
MAX_PIXELS = 50_000_000
# Below this nothing can be decoded into a meaningful picture; the service asks for more
# (ml.screening.MIN_RADIOGRAPH_SIDE), but training on small test images may go this low.
MIN_SIDE = 64
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


@dataclass(frozen=True)
class ImageMetadata:
    """What the file says about the image (DICOM tags; PNG and JPEG carry none of it)."""

    modality: str | None = None
    body_part: str | None = None
    view_position: str | None = None
    patient_age_years: int | None = None
    patient_sex: str | None = None
    pixel_spacing_mm: tuple[float, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        values = asdict(self)
        if self.pixel_spacing_mm is not None:
            values["pixel_spacing_mm"] = list(self.pixel_spacing_mm)
        return values


@dataclass
class Radiograph:
    """A decoded greyscale radiograph.

    ``pixels`` is a float32 array of shape (height, width) with 0 for black and 1 for the
    brightest value the file's bit depth can hold (not the brightest pixel of the image),
    so that grey levels mean the same across images of one bit depth.
    """

    pixels: np.ndarray
    bit_depth: int
    metadata: ImageMetadata = field(default_factory=ImageMetadata)
    # Share of pixels whose colour channels disagree: 0 for any greyscale file.
    colour_fraction: float = 0.0

    def __post_init__(self) -> None:
        if not isinstance(self.pixels, np.ndarray) or self.pixels.ndim != 2:
            raise ValueError("Radiograph.pixels must be a 2-D NumPy array.")
        if self.pixels.dtype != np.float32:
            raise ValueError(f"Radiograph.pixels must be float32, not {self.pixels.dtype}.")
        if self.pixels.size == 0:
            raise ValueError("Radiograph.pixels must not be empty.")
        if self.bit_depth not in (8, 16):
            raise ValueError(f"Radiograph.bit_depth must be 8 or 16, not {self.bit_depth}.")

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    def with_pixels(self, pixels: np.ndarray) -> Radiograph:
        """The same radiograph (metadata and all) with other pixels, e.g. corrected grey levels."""
        return Radiograph(
            pixels=pixels,
            bit_depth=self.bit_depth,
            metadata=self.metadata,
            colour_fraction=self.colour_fraction,
        )


def decode_radiograph(data: bytes) -> Radiograph:
    """Decode a PNG, JPEG or DICOM file's bytes; raise ImageDecodeError for anything unreadable."""
    if not data:
        raise ImageDecodeError("The file is empty.")
    from ml import dicom  # Imported here: pydicom is only needed for DICOM files.

    if dicom.is_dicom(data):
        return dicom.decode_dicom(data)
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
