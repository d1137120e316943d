"""Errors the package raises for bad input, with messages fit to show to their readers."""


class ImageDecodeError(ValueError):
    """An uploaded file is not a radiograph this package can read.

    The message is written for a clinician (it may be shown as is in the web app), so it
    says what is wrong with the file, never which library failed.
    """


class WeightsError(ValueError):
    """A weights directory, its card or its weights file is missing, invalid or mismatched.

    The message names the file or field at fault, because the reader is the operator who
    installed the weights and has to fix them.
    """
