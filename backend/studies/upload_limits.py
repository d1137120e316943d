"""How large an upload may be: one file, and the body of a request that carries a study's files.

Checked before anything is read where a request declares its length (the view, the ASGI layer of
config.request_limits, STOW-RS), and again as each file is read (studies.uploads).
"""

from django.conf import settings

from common.errors import DomainError


def upload_too_large(size: int) -> DomainError:
    limit = settings.CXR_MAX_UPLOAD_BYTES
    return DomainError(
        f"The file is larger than the {limit // (1024 * 1024)} MiB limit.",
        status_code=413,
        extra={"size_bytes": size, "limit_bytes": limit},
    )


def study_upload_body_limit() -> int:
    """The largest body POST /api/studies/ takes: each file of a study may reach the limit, and the
    multipart envelope adds a few hundred bytes around each file."""
    return settings.CXR_MAX_IMAGES_PER_STUDY * (settings.CXR_MAX_UPLOAD_BYTES + 64 * 1024)
