"""The classifier's findings in the study's SR: one measurement group per finding.

Each group holds the finding's SNOMED CT code, its probability, threshold and calibrated score, and
whether it reached the threshold. Each is a planar ROI (TID 1410): where the finding's Grad-CAM map
is kept (every study analysed since maps were kept small) and points somewhere (is not flat), its
region is the map's hottest part on the radiograph, its method "Visual explanation", so a viewer
draws where the model looked; otherwise its region is the whole radiograph, with no method.
"""

from typing import Any

import highdicom as hd

from pacs.codes import CALIBRATED_SCORE, PROBABILITY, THRESHOLD, VISUAL_EXPLANATION, finding_code
from pacs.explanation_region import hottest_region_outline
from pacs.origin import ImageOrigin, derived_uid
from pacs.sr_content import (
    algorithm_identification,
    coded,
    method_as_concept_modifier,
    number,
    region_image,
    result_at_threshold,
    whole_image_region,
)
from studies.heatmaps import image_heatmap_map
from studies.models import Finding, Study

FindingGroup = hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations


def finding_groups(*, study: Study, origin: ImageOrigin) -> list[FindingGroup]:
    profile = study.threshold_profile
    algorithm = algorithm_identification(
        study.model_card or {}, threshold_profile=profile["identity"] if profile else "card"
    )
    return [
        finding_group(study=study, finding=finding, origin=origin, algorithm=algorithm)
        for finding in study.findings.order_by("label")
    ]


def finding_group(
    *, study: Study, finding: Finding, origin: ImageOrigin, algorithm: hd.sr.AlgorithmIdentification
) -> FindingGroup:
    code = finding_code(finding.label)
    content: dict[str, Any] = {
        "tracking_identifier": hd.sr.TrackingIdentifier(
            uid=derived_uid(study, f"finding:{finding.label}"), identifier=finding.label
        ),
        "finding_type": coded(code),
        "algorithm_id": algorithm,
        "measurements": [
            number(PROBABILITY, finding.probability, algorithm),
            number(THRESHOLD, finding.threshold, algorithm),
            number(CALIBRATED_SCORE, finding.calibrated_score, algorithm),
        ],
        "qualitative_evaluations": [result_at_threshold(finding.positive)],
    }
    image = study.key_image
    heatmap = image_heatmap_map(image=image, label=finding.label)
    outline = hottest_region_outline(heatmap) if heatmap is not None else None
    if outline is None:
        region, method = whole_image_region(origin, width=image.width, height=image.height), None
    else:
        region = hd.sr.ImageRegion(
            graphic_type=hd.sr.GraphicTypeValues.POLYLINE,
            graphic_data=outline,
            source_image=region_image(origin),
        )
        method = coded(VISUAL_EXPLANATION)
    group = hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations(
        **content, referenced_region=region, method=method
    )
    method_as_concept_modifier(group)
    return group
