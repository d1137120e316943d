"""Errors the package raises for bad input, with messages fit to show to their readers."""


class ImageError(ValueError):
    """An input image that cannot be analysed.

    Messages are written for a clinician (the web app shows them as they are): they say what
    is wrong with the file, never which library failed.
    """


class ImageDecodeError(ImageError):
    """The file cannot be read as an image: empty, truncated or corrupt."""


class UnsupportedImageError(ImageDecodeError):
    """The file is not in a format the service reads (PNG, JPEG or DICOM)."""


class ImageTooLargeError(ImageDecodeError):
    """The image has more pixels than may be decoded safely (a decompression bomb, say)."""


class ImageRejectedError(ImageError):
    """The image reads fine but is not a frontal chest radiograph the model may be shown.

    ``reason`` is a short phrase for the user interface ("lateral view", "colour photograph",
    ...); ``tag`` names the DICOM attribute that decided it, where one did.
    """

    def __init__(self, message: str, *, reason: str, tag: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.tag = tag


class WeightsError(ValueError):
    """A weights directory, its card or its weights file is missing, invalid or mismatched.

    The message names the file or field at fault, because the reader is the operator who
    installed the weights and has to fix them.
    """


class DataError(ValueError):
    """A data file is missing, unreadable or inconsistent; the message names the file and the fault.

    Raised for a user's data files (CSV tables, lists, folders) in training and evaluation.
    """


class NetworkConversionError(RuntimeError):
    """A network could not be converted to OpenVINO, or its converted form could not be read.

    Not the operator's weights (those raise WeightsError) but the conversion itself: the
    message carries the converter's own output for whoever maintains the package.
    """
