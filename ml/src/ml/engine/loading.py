"""``load_network``: how every analyser builds its network, on the runtime ``resolve_backend`` chooses."""

from __future__ import annotations

import os

from ml.engine.backend import checked_threads, resolve_backend
from ml.engine.network import Network
from ml.engine.source import NetworkSource


def load_network(
    source: NetworkSource,
    *,
    threads: int | None = None,
    backend: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> Network:
    """``source``'s network on OpenVINO (from the cache; converted on a miss) or on Keras where chosen.

    ``backend`` overrides ``$CXR_BACKEND``; ``threads`` defaults to the CPUs this process may
    use. The OpenVINO path imports no TensorFlow.
    """
    threads = checked_threads(threads)
    if resolve_backend(backend) == "keras":
        from ml.engine.keras_forward import KerasNetwork, build_keras_model, configure_threads

        configure_threads(threads)
        return KerasNetwork(build_keras_model(source))
    from ml.engine.compiled import CompiledNetwork

    return CompiledNetwork.load(source, threads=threads, cache_dir=cache_dir)
