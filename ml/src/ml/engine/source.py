"""What the engine builds: a builder named by its dotted path, its JSON arguments, and its identity.

The builder runs in a child process (on a cache miss) or in this one (the Keras backend),
so it is named, not passed: ``"package.module:function"``, called as ``function(**arguments)``
and returning a ``keras.Model`` with its weights. ``identity`` is what the network's numbers
depend on (the weights' SHA-256 where there is a file, else the untrained card's version and
seed; the architecture and input settings): with the OpenVINO and Keras versions it keys the
cache, so other weights or another architecture never read a stale conversion.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata
from typing import Any

# Bumped whenever the conversion itself changes, so that old cache entries are not read.
CONVERSION_FORMAT = 2


@dataclass(frozen=True)
class NetworkSource:
    """A network to build: ``builder(**arguments)``, identified by ``identity``."""

    builder: str
    arguments: Mapping[str, Any]
    identity: Mapping[str, Any]

    def __post_init__(self) -> None:
        module, _, function = self.builder.partition(":")
        if not module or not function:
            raise ValueError(f'A builder is named "package.module:function", not {self.builder!r}.')
        for name in ("arguments", "identity"):
            try:
                json.dumps(getattr(self, name), sort_keys=True)
            except (TypeError, ValueError) as error:
                raise ValueError(f"The network source's {name} must be JSON: {error}.") from error

    def cache_key(self, openvino_version: str) -> str:
        """The cache entry's name: the identity, the builder, the converter and the frameworks' versions."""
        material = {
            "format": CONVERSION_FORMAT,
            "builder": self.builder,
            "identity": self.identity,
            "openvino": openvino_version,
            # Keras draws an untrained network's weights and defines its layers' arithmetic.
            "keras": metadata.version("keras"),
        }
        return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()[:32]


def weights_identity(weights_sha256: str | None, version: str) -> dict[str, str]:
    """The weights' part of an identity: their file's SHA-256, else the untrained version (with its seed)."""
    if weights_sha256 is not None:
        return {"weights_sha256": weights_sha256}
    return {"untrained_version": version}
