"""Standard codes for what the service reports, shared by the FHIR DiagnosticReport and the DICOM SR.

Each ChestX-ray14 finding is coded in SNOMED CT (the terminology both FHIR and DICOM SR prefer).
Hernia in ChestX-ray14 is a hiatal hernia seen on a chest film; Nodule and Mass are lung lesions
under and over 3 cm. The probability and the threshold have DICOM's own concepts (DCM, PS3.16, as
pydicom's copy of its code tables has them), anatomy and results SNOMED CT's. Only what no standard
names is coded in a private scheme of this service (DICOM reserves designators starting with "99"
for such local schemes): the calibrated score, the cardiothoracic ratio as the service measures
it (LOINC's cardiothoracic ratios are of areas and circumferences, a fetal echo's), ChestX-Det's
"weasand" and the CT analyser's grades of lung involvement.
"""

from dataclasses import dataclass

from ml.labels import CHESTXRAY14_LABELS
from ml.segmentation.structures import KNOWN_STRUCTURES

SNOMED_SYSTEM_URL = "http://snomed.info/sct"
SNOMED_DESIGNATOR = "SCT"
LOINC_SYSTEM_URL = "http://loinc.org"
DICOM_SYSTEM_URL = "http://dicom.nema.org/resources/ontology/DCM"
DICOM_DESIGNATOR = "DCM"
LOCAL_DESIGNATOR = "99CXRDS"
LOCAL_SYSTEM_URL = "urn:cxr-decision-support:codes"
LOCAL_SCHEME_NAME = "CXR decision support local codes"

NOT_A_DIAGNOSIS = "Decision support, not a diagnosis."
UNTRAINED_WARNING = "Untrained model — not for clinical use."


@dataclass(frozen=True)
class Code:
    system_url: str
    designator: str
    value: str
    meaning: str


def snomed(value: str, meaning: str) -> Code:
    return Code(SNOMED_SYSTEM_URL, SNOMED_DESIGNATOR, value, meaning)


def dicom(value: str, meaning: str) -> Code:
    return Code(DICOM_SYSTEM_URL, DICOM_DESIGNATOR, value, meaning)


def local(value: str, meaning: str) -> Code:
    return Code(LOCAL_SYSTEM_URL, LOCAL_DESIGNATOR, value, meaning)


FINDING_CODES: dict[str, Code] = {
    "Atelectasis": snomed("46621007", "Atelectasis"),
    "Cardiomegaly": snomed("8186001", "Cardiomegaly"),
    "Consolidation": snomed("95436008", "Lung consolidation"),
    "Edema": snomed("19242006", "Pulmonary edema"),
    "Effusion": snomed("60046008", "Pleural effusion"),
    "Emphysema": snomed("87433001", "Pulmonary emphysema"),
    "Fibrosis": snomed("51615001", "Fibrosis of lung"),
    "Hernia": snomed("84089009", "Hiatal hernia"),
    "Infiltration": snomed("409609008", "Radiologic infiltrate of lung"),
    "Mass": snomed("309529002", "Lung mass"),
    "Nodule": snomed("427359005", "Solitary nodule of lung"),
    "Pleural_Thickening": snomed("78381009", "Pleural thickening"),
    "Pneumonia": snomed("233604007", "Pneumonia"),
    "Pneumothorax": snomed("36118008", "Pneumothorax"),
}
if set(FINDING_CODES) != set(CHESTXRAY14_LABELS):
    raise ImportError("pacs.codes must code exactly the ChestX-ray14 findings")

PROBABILITY = dicom("122157", "Probability")
THRESHOLD = dicom("122411", "Threshold Value")
CALIBRATED_SCORE = local("calibrated-score", "Calibrated score (threshold at 0.5)")
# How a finding's image region was found: from the classifier's Grad-CAM map of it.
VISUAL_EXPLANATION = dicom("130401", "Visual explanation")
# The screener's one finding: any abnormality.
ABNORMAL = snomed("263654008", "Abnormal")
CARDIOTHORACIC_RATIO = local("cardiothoracic", "Cardiothoracic ratio (widest heart / widest thorax)")
DIAMETER = snomed("81827009", "Diameter")
HEART = snomed("80891009", "Heart")
# The thorax line runs between the inner margins of the ribs: the chest cavity's width.
CHEST_CAVITY = snomed("43799004", "Chest cavity")
# The CT analyser's patient-level finding: lung involvement at the card's positive grades.
CT_INVOLVEMENT = local("ct-involvement", "Lung involvement on chest CT at the positive grades")
POSITIVE = snomed("10828004", "Positive")
NEGATIVE = snomed("260385009", "Negative")
# Anatomy, for the SEG's segments (each structure of ml.segmentation.structures) and the SR's sites.
ANATOMICAL_STRUCTURE = snomed("91723000", "Anatomical Structure")
LEFT = snomed("7771000", "Left")
RIGHT = snomed("24028007", "Right")
# The structures that come in pairs, by their name without its side.
PAIRED_STRUCTURES = {
    "lung": snomed("39607008", "Lung"),
    "clavicle": snomed("51299004", "Clavicle"),
    "scapula": snomed("79601000", "Scapula"),
    "hilus_pulmonis": snomed("46750007", "Hilum of lung"),
}
STRUCTURE_CODES: dict[str, tuple[Code, Code | None]] = {
    **{
        f"{side}_{name}": (code, laterality)
        for name, code in PAIRED_STRUCTURES.items()
        for side, laterality in (("left", LEFT), ("right", RIGHT))
    },
    "heart": (HEART, None),
    "ribs": (snomed("113197003", "Rib"), None),
    "aorta": (snomed("15825003", "Aorta"), None),
    # ChestX-Det's "facies diaphragmatica" outlines the diaphragm's upper surface.
    "facies_diaphragmatica": (snomed("5798000", "Diaphragm"), None),
    "mediastinum": (snomed("72410000", "Mediastinum"), None),
    # ChestX-Det's "weasand" (the gullet or the windpipe: the old word means either) has no one code.
    "weasand": (local("weasand", "Weasand (ChestX-Det)"), None),
    "spine": (snomed("421060004", "Spine"), None),
}
if set(STRUCTURE_CODES) != set(KNOWN_STRUCTURES):
    raise ImportError("pacs.codes must code exactly the structures ml.segmentation knows")

# TID 1500's procedure reported is drawn from CID 100, which has no plain chest radiograph
# (SCT 399208008): its generic imaging procedure (pixelmed's SR validator holds a report to the group).
IMAGING_PROCEDURE = snomed("363679005", "Imaging procedure")
# The report's code: a one-view chest radiograph (the service takes single frontal images).
CHEST_XRAY_REPORT = Code(LOINC_SYSTEM_URL, "LN", "36554-4", "XR Chest Single view")


def model_statements(card: dict[str, object]) -> list[str]:
    """What every export of a result says of it: decision support, and untrained when it is."""
    return [NOT_A_DIAGNOSIS] if card.get("trained") else [NOT_A_DIAGNOSIS, UNTRAINED_WARNING]


def finding_code(label: str) -> Code:
    """The standard code of a finding; a label outside the table is a programming error."""
    try:
        return FINDING_CODES[label]
    except KeyError:
        raise ValueError(f"No standard code for finding {label!r}") from None
