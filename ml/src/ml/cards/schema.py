"""The one JSON Schema every model card follows (``card.schema.json``, shipped in this package).

``check_card`` validates parsed JSON against one kind's definition and turns jsonschema's first
error into a WeightsError that names the field's path ("The model card's validation.images must
be at least 0, not -1."), so an operator sees which line of ``card.json`` to fix.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from ml.errors import WeightsError

SCHEMA_FILENAME = "card.schema.json"
# A card without ``kind`` is a classifier's: its cards were written before kinds existed.
DEFAULT_KIND = "classifier"

_TYPE_PHRASES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "object": "a JSON object",
    "array": "a list",
    "null": "null",
}
# How unevaluatedProperties and additionalProperties quote the fields they refuse.
_QUOTED = re.compile(r"'([^']*)'")
_SHOWN_CHARACTERS = 60


@functools.cache
def card_schema() -> dict[str, Any]:
    """The parsed schema file (read once per process)."""
    text = resources.files("ml.cards").joinpath(SCHEMA_FILENAME).read_text(encoding="utf-8")
    return json.loads(text)


@functools.cache
def _kind_validator(kind: str) -> Draft202012Validator:
    schema = card_schema()
    definition = f"{kind}_card"
    if definition not in schema["$defs"]:
        raise ValueError(f"The card schema has no kind {kind!r}.")
    # The kind's definition as a schema of its own, its references resolved in the whole file.
    return Draft202012Validator({"$defs": schema["$defs"], "$ref": f"#/$defs/{definition}"})


def schema_validator() -> Draft202012Validator:
    """A validator of the whole schema (every kind), as the tests and other tools use it."""
    return Draft202012Validator(card_schema())


def card_kind(data: Any) -> str:
    """The kind a parsed card names (the classifier's when it names none)."""
    return data.get("kind", DEFAULT_KIND) if isinstance(data, dict) else DEFAULT_KIND


def check_card(data: Any, kind: str, noun: str) -> None:
    """Raise WeightsError naming the first field of ``data`` that breaks ``kind``'s schema.

    ``noun`` is how messages call the card ("model card", "segmentation card").
    """
    if not isinstance(data, dict):
        raise WeightsError(f"The {noun} must be a JSON object.")
    named = card_kind(data)
    if named != kind:
        raise WeightsError(f"The card's kind is {named!r}, not \"{kind}\": not a {kind} model's card.")
    error = first_error(_kind_validator(kind).iter_errors(data))
    if error is not None:
        raise WeightsError(readable_message(error, noun))


def first_error(errors: Iterable[ValidationError]) -> ValidationError | None:
    """The error to report: jsonschema's best match, an unknown-field error only when alone.

    A field that fails its own check also counts as unevaluated for ``unevaluatedProperties``,
    which would call a mistyped known field unknown.
    """
    errors = list(errors)
    precise = [error for error in errors if error.validator != "unevaluatedProperties"]
    return best_match(precise or errors)


def readable_message(error: ValidationError, noun: str) -> str:
    """One sentence naming the field's path and what it must be."""
    path = _path(error.absolute_path)
    subject = f"The {noun}'s {path}" if path else f"The {noun}"
    keyword = error.validator
    if keyword == "required":
        missing = [name for name in error.validator_value if name not in error.instance]
        return f"{subject} is missing the field(s): {', '.join(missing)}."
    if keyword in ("additionalProperties", "unevaluatedProperties"):
        unknown = _QUOTED.findall(error.message.rsplit("(", 1)[-1])
        return f"{subject} has unknown field(s): {', '.join(sorted(unknown))}."
    if keyword == "dependentRequired":
        pairs = [
            (given, needed)
            for given, needs in error.validator_value.items()
            if given in error.instance
            for needed in needs
            if needed not in error.instance
        ]
        return f"{subject}: " + "; ".join(f"{given} needs {needed}" for given, needed in pairs) + "."
    expected = error.schema.get("expected") if isinstance(error.schema, dict) else None
    requirement = f"must be {expected}" if expected else _requirement(error)
    return f"{subject} {requirement}, not {_shown(error.instance)}."


def _requirement(error: ValidationError) -> str:
    keyword, value, schema = error.validator, error.validator_value, error.schema
    if keyword == "type":
        types = [value] if isinstance(value, str) else value
        return "must be " + " or ".join(_TYPE_PHRASES[name] for name in types)
    if keyword == "enum":
        return "must be one of " + ", ".join(str(item) for item in value)
    if keyword == "const":
        return f"must be {json.dumps(value)}"
    if keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        return _range(schema)
    if keyword == "multipleOf":
        return f"must be a multiple of {value}"
    if keyword in ("minItems", "minProperties"):
        return f"must have at least {value} item(s)"
    if keyword == "maxItems":
        return f"must have at most {value} item(s)"
    if keyword == "uniqueItems":
        return "must not repeat an item"
    if keyword == "minLength":
        return f"must have at least {value} character(s)"
    if keyword == "pattern":
        return f"must match {value}"
    return f"is refused ({error.message})"


def _range(schema: dict[str, Any]) -> str:
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    high = schema.get("maximum", schema.get("exclusiveMaximum"))
    if low is not None and high is not None:
        opening = "(" if "exclusiveMinimum" in schema else "["
        closing = ")" if "exclusiveMaximum" in schema else "]"
        return f"must lie in {opening}{low}, {high}{closing}"
    if low is not None:
        return f"must be {'greater than' if 'exclusiveMinimum' in schema else 'at least'} {low}"
    return f"must be {'less than' if 'exclusiveMaximum' in schema else 'at most'} {high}"


def _path(parts: Iterable[str | int]) -> str:
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= _SHOWN_CHARACTERS else text[: _SHOWN_CHARACTERS - 3] + "..."
