"""Where media (radiographs, heatmaps) are kept: local files, or an S3-compatible object store.

With CXR_S3_BUCKET set, every node (web or worker) reads and writes the same bucket through
django-storages, so a study analysed on one node is served by any other. Credentials come from
AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, as boto3 reads them. Nothing is public: media are read
through the authenticated API only.
"""

from collections.abc import Mapping
from typing import Any

LOCAL_FILES = {"BACKEND": "django.core.files.storage.FileSystemStorage"}


def media_storage(environ: Mapping[str, str]) -> dict[str, Any]:
    bucket = environ.get("CXR_S3_BUCKET", "")
    if not bucket:
        return LOCAL_FILES
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": environ.get("CXR_S3_ENDPOINT_URL") or None,
            "region_name": environ.get("CXR_S3_REGION") or None,
            "location": environ.get("CXR_S3_PREFIX", ""),
            # The service chooses every path (studies/<id>/...); writing one again replaces the object.
            "file_overwrite": True,
            "default_acl": None,
            "querystring_auth": True,
            # Path-style addressing works with every S3-compatible server (MinIO, Ceph, rclone).
            "addressing_style": "path",
        },
    }
