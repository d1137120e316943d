"""The FHIR pieces every Observation of the report shares: codes, quantities, interpretations."""

from typing import Any

from pacs.codes import Code

UCUM_URL = "http://unitsofmeasure.org"
INTERPRETATION_URL = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
CATEGORY_URL = "http://terminology.hl7.org/CodeSystem/observation-category"
INTERPRETATIONS = {"POS": "Positive", "NEG": "Negative", "H": "High", "N": "Normal"}


def concept(code: Code) -> dict[str, Any]:
    return {"coding": [{"system": code.system_url, "code": code.value, "display": code.meaning}]}


def probability_quantity(value: float) -> dict[str, Any]:
    return {"value": round(float(value), 6), "unit": "1", "system": UCUM_URL, "code": "1"}


def interpretation(code: str) -> list[dict[str, Any]]:
    return [{"coding": [{"system": INTERPRETATION_URL, "code": code, "display": INTERPRETATIONS[code]}]}]


def imaging_category() -> list[dict[str, Any]]:
    return [{"coding": [{"system": CATEGORY_URL, "code": "imaging", "display": "Imaging"}]}]
