"""The base of every model card: fields, parsing, the schema check, identity and the weights directory.

A kind's card (the classifier's ``ModelCard``, ``SegmentationCard``, ``ScreenerCard``,
``CTModelCard``) is a frozen dataclass deriving from ``Card`` that declares only its own section:
its typed fields, its kind, the environment variable naming its weights directory, which of its
fields shape its network's input and which identify its results, and the rules between fields
that JSON Schema cannot state (``_checked``). Everything else is here, once:

    card = SegmentationCard.from_dict(data)   # checked against card.schema.json, WeightsError names the field
    card.to_dict()                            # the layout of card.json, which the API returns as it is
    card.input_key                            # changes exactly when a prepared input must be prepared again
    card.cache_identity                       # name@version#digest: keys cached results
    SegmentationCard.describe(weights_dir)    # a directory's card with its weights' SHA-256; None: untrained
    SegmentationCard.weights_dir_from_env()   # $CXR_SEGMENTATION_WEIGHTS as a Path, or None

Nothing here imports a framework: the web process describes cards on every request.
"""

from __future__ import annotations

import abc
import copy
import dataclasses
import functools
import hashlib
import json
import os
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Self, TypeVar, get_args, get_origin, get_type_hints

from ml.cards.files import (
    CARD_FILENAME,
    WEIGHTS_FILENAME,
    file_stamp,
    read_card_json,
    verified_sha256,
    weights_dir_from_env,
    write_card_json,
)
from ml.cards.schema import check_card
from ml.errors import WeightsError

# What an untrained card's identity says instead of its weights' hash (see ``Card.cache_identity``).
UNTRAINED_WEIGHTS = "untrained"

CardT = TypeVar("CardT", bound="Card")


def identity_digest(fields: Mapping[str, Any]) -> str:
    """The one digest of the package: 16 hex digits of the SHA-256 of ``fields`` as sorted JSON.

    Equal JSON gives an equal digest in every process and on every machine, so the web process
    and the worker agree on an input key or a cache key without exchanging more than the card.
    """
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True, kw_only=True)
class Card(abc.ABC):
    """What every card has. The dict fields of a frozen card are read-only by convention: ``to_dict``
    and ``from_dict`` copy, so a caller's edits never reach a shared card."""

    # The kind's name in card.json and the schema (``$defs/<KIND>_card``).
    KIND: ClassVar[str]
    # How messages call this card ("model card", "segmentation card").
    NOUN: ClassVar[str]
    # The environment variable naming the kind's weights directory.
    ENV_VAR: ClassVar[str]
    # The fields that shape the network's input: ``input_key`` digests these.
    INPUT_FIELDS: ClassVar[tuple[str, ...]]
    # The fields that can change a result: ``cache_identity`` digests these.
    IDENTITY_FIELDS: ClassVar[tuple[str, ...]]
    # Optional fields left out of card.json when None, so older cards keep their layout.
    OMITTED_WHEN_NONE: ClassVar[frozenset[str]] = frozenset()
    # Whether card.json says ``kind`` (the classifier's cards predate kinds and do not).
    KIND_IN_LAYOUT: ClassVar[bool] = True

    name: str
    version: str
    trained: bool
    weights_sha256: str | None = None
    training_data: str | None = None
    validation: dict[str, Any] | None = None

    @property
    def kind(self) -> str:
        return self.KIND

    @classmethod
    @abc.abstractmethod
    def untrained(cls) -> Self:
        """The card of the kind's seeded untrained network, run when no weights are installed."""

    def _checked(self) -> Self:
        """The card with the rules between fields checked and defaults filled in (WeightsError if not).

        The schema checks each field on its own; a kind overrides this for what it cannot state.
        """
        return self

    @classmethod
    def from_dict(cls, data: Any) -> Self:
        """Build a card from parsed JSON; WeightsError naming the first bad, missing or unknown field."""
        check_card(data, cls.KIND, cls.NOUN)
        hints = get_type_hints(cls)
        values = {
            field.name: _from_json(hints[field.name], data[field.name])
            for field in dataclasses.fields(cls)
            if field.name in data
        }
        return cls(**values)._checked()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able copy of the card, in the layout of ``card.json``."""
        layout: dict[str, Any] = {"kind": self.KIND} if self.KIND_IN_LAYOUT else {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if value is None and field.name in self.OMITTED_WHEN_NONE:
                continue
            layout[field.name] = _to_json(value)
        return layout

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Self:
        """Read and validate a ``card.json`` file."""
        return cls.from_dict(read_card_json(path))

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the card as ``card.json``, atomically so a reader never sees half a card."""
        write_card_json(path, self.to_dict())

    @property
    def input_key(self) -> str:
        """Identifies the input this card's network reads: an input prepared for a card with another
        key is prepared again, one with the same key is reused (other weights read it as well)."""
        layout = self.to_dict()
        return identity_digest({name: layout[name] for name in self.INPUT_FIELDS})

    @property
    def cache_identity(self) -> str:
        """A string naming everything about the model that can change a stored result.

        It has the form ``name@version#digest``; the digest covers the kind's ``IDENTITY_FIELDS``,
        so editing any of them invalidates cached results. An untrained card's weights hash reads
        ``"untrained"``: the web process describes the seeded untrained model without building it
        and so cannot know that hash, while its version names the seed that fixes the weights;
        this keeps the web process's and the worker's identities equal.
        """
        layout = self.to_dict()
        identity = {name: layout[name] for name in self.IDENTITY_FIELDS}
        if "weights_sha256" in identity and not self.trained:
            identity["weights_sha256"] = UNTRAINED_WEIGHTS
        return f"{self.name}@{self.version}#{identity_digest(identity)}"

    @classmethod
    def describe(cls, weights_dir: str | os.PathLike[str] | None) -> Self:
        """The card of the weights ``weights_dir`` holds, or the untrained card for None.

        Cheap (no framework) and cached until a file changes. The returned card's ``weights_sha256``
        is that of the directory's ``model.weights.h5``; a card recording another hash is refused.
        Any problem raises WeightsError naming the file at fault.
        """
        if weights_dir is None:
            return cls.untrained()
        directory = Path(weights_dir).expanduser().resolve()
        if not directory.is_dir():
            raise WeightsError(
                f"The {cls.KIND} weights directory {directory} does not exist or is not a directory."
            )
        card_stamp = file_stamp(directory / CARD_FILENAME, directory)
        weights_stamp = file_stamp(directory / WEIGHTS_FILENAME, directory)
        # The weights (270 MB for the PSPNet) are hashed once per version of the files, not per call;
        # copying keeps callers' hands off the cached card's dictionaries.
        return copy.deepcopy(_read_directory(cls, str(directory), card_stamp, weights_stamp))

    @classmethod
    def weights_dir_from_env(cls, environ: Mapping[str, str] | None = None) -> Path | None:
        """The weights directory ``ENV_VAR`` names, or None when it is unset or empty."""
        return weights_dir_from_env(cls.ENV_VAR, environ)


# The stamps are arguments only so that they take part in the cache key.
@functools.lru_cache(maxsize=32)
def _read_directory(
    card_type: type[CardT],
    directory: str,
    card_stamp: tuple[int, int, int],
    weights_stamp: tuple[int, int, int],
) -> CardT:
    card = card_type.load(Path(directory) / CARD_FILENAME)
    actual = verified_sha256(Path(directory) / WEIGHTS_FILENAME, card.weights_sha256)
    return dataclasses.replace(card, weights_sha256=actual)


def _from_json(hint: Any, value: Any) -> Any:
    """A checked JSON value as the field's type holds it: tuples for lists, floats for numbers,
    ``from_dict`` for a typed section (the CT lung window), a private copy otherwise."""
    if value is None:
        return None
    for alternative in _alternatives(hint):
        if (get_origin(alternative) or alternative) is tuple:
            return tuple(copy.deepcopy(value))
        if alternative is float:
            return float(value)
        if alternative is int:
            # JSON Schema counts 224.0 as an integer; the card keeps 224.
            return int(value)
        reader = getattr(alternative, "from_dict", None)
        if callable(reader):
            return reader(value)
    return copy.deepcopy(value)


def _alternatives(hint: Any) -> tuple[Any, ...]:
    """The types a field may hold besides None."""
    if get_origin(hint) in (typing.Union, types.UnionType):
        return tuple(argument for argument in get_args(hint) if argument is not type(None))
    return (hint,)


def _to_json(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_to_json(item) for item in value]
    if isinstance(value, dict):
        return {key: _to_json(item) for key, item in value.items()}
    writer = getattr(value, "to_dict", None)
    return writer() if callable(writer) else value
