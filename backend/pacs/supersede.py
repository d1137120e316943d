"""A new set of results replaces the one the PACS holds: its SR names the SR before it, and where
the PACS lets the service (Orthanc's REST API, CXR_PACS_REST_URL) the replaced objects are removed.

DICOM never overwrites: new results carry new UIDs (pacs.origin.derived_uid), so the older objects
stay in the PACS unless removed. The SR's Predecessor Documents Sequence (PS3.3 C.17.2) tells a
viewer which report the new one replaces, whatever the PACS keeps.
"""

import json
import logging
import urllib.error
import urllib.request
from typing import Any

from django.conf import settings
from pydicom.dataset import Dataset

logger = logging.getLogger(__name__)

REST_TIMEOUT_SECONDS = 30


def filed_object(dataset: Dataset) -> dict[str, str]:
    """What is recorded of an object sent to the PACS (ReceivedImage.filed_objects)."""
    return {
        "modality": str(dataset.Modality),
        "sop_class_uid": str(dataset.SOPClassUID),
        "series_instance_uid": str(dataset.SeriesInstanceUID),
        "sop_instance_uid": str(dataset.SOPInstanceUID),
    }


def predecessors_mark(datasets: list[Dataset], *, previous: list[dict[str, str]]) -> None:
    """Name the previous set's SR in each new SR as the document it replaces (a first set: none)."""
    previous_reports = [item for item in previous if item["modality"] == "SR"]
    current = {str(dataset.SOPInstanceUID) for dataset in datasets}
    replaced = [item for item in previous_reports if item["sop_instance_uid"] not in current]
    if not replaced:
        return
    for report in (dataset for dataset in datasets if dataset.Modality == "SR"):
        report.PredecessorDocumentsSequence = [predecessor_reference(report, replaced)]


def predecessor_reference(report: Dataset, replaced: list[dict[str, str]]) -> Dataset:
    """The hierarchical reference (study, series, instance) of the SRs ``report`` replaces: they
    are in the same study, the radiograph's."""
    item = Dataset()
    item.StudyInstanceUID = report.StudyInstanceUID
    series_uids = dict.fromkeys(entry["series_instance_uid"] for entry in replaced)
    item.ReferencedSeriesSequence = []
    for series_uid in series_uids:
        series = Dataset()
        series.SeriesInstanceUID = series_uid
        series.ReferencedSOPSequence = []
        for entry in (entry for entry in replaced if entry["series_instance_uid"] == series_uid):
            instance = Dataset()
            instance.ReferencedSOPClassUID = entry["sop_class_uid"]
            instance.ReferencedSOPInstanceUID = entry["sop_instance_uid"]
            series.ReferencedSOPSequence.append(instance)
        item.ReferencedSeriesSequence.append(series)
    return item


def superseded_remove(*, previous: list[dict[str, str]], current: list[dict[str, str]]) -> int:
    """Delete from the PACS the previous set's objects that the current one replaced, when
    CXR_PACS_REST_URL names Orthanc's REST API; returns how many were deleted.

    A removal that fails is logged and left: the new SR still names its predecessor, and the
    filing itself has succeeded.
    """
    base = settings.CXR_PACS_REST_URL.rstrip("/")
    if not base:
        return 0
    kept = {item["sop_instance_uid"] for item in current}
    removed = 0
    for item in previous:
        if item["sop_instance_uid"] in kept:
            continue
        try:
            for found in rest_call(base, "POST", "/tools/lookup", item["sop_instance_uid"].encode()) or []:
                if found.get("Type") == "Instance":
                    rest_call(base, "DELETE", f"/instances/{found['ID']}")
                    removed += 1
        except (OSError, ValueError) as error:
            logger.warning("A superseded %s object stays in the PACS: %s", item["modality"], error)
    return removed


def rest_call(base: str, method: str, path: str, body: bytes | None = None) -> Any:
    request = urllib.request.Request(f"{base}{path}", data=body, method=method)
    with urllib.request.urlopen(request, timeout=REST_TIMEOUT_SECONDS) as answer:
        content = answer.read()
    return json.loads(content) if content else None
