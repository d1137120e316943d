"""The converter's child process: build Keras networks and save them as OpenVINO IR.

    python -m ml.engine.convert < requests.json

The requests are a list of ``{"builder": ..., "arguments": {...}, "identity": {...},
"output": ".../network.xml"}`` (a ``NetworkSource`` and where to write it): one child converts
them all, so TensorFlow is imported once however many networks a worker lacks. Each network
is traced in inference mode (as ``keras_forward.predictor`` runs it) and converted from that
trace, then saved in float32: ``ov.save_model`` would otherwise compress the weights to
float16. A WeightsError (a bad weights file, say) exits with ``WEIGHTS_ERROR_EXIT`` and its
message on stderr's last line, so the parent raises it as the WeightsError it is.
"""

from __future__ import annotations

import json
import sys

from ml.engine.source import NetworkSource
from ml.errors import WeightsError

WEIGHTS_ERROR_EXIT = 3


def convert(source: NetworkSource, output: str) -> None:
    """Build ``source``'s network and write it as OpenVINO IR (``output`` and the ``.bin`` beside it)."""
    import keras
    import openvino as ov

    from ml.engine.keras_forward import build_keras_model, predictor

    model = build_keras_model(source)
    if len(model.outputs) != 1:
        raise ValueError(f"{source.builder} built a network with {len(model.outputs)} outputs, not one.")
    concrete = predictor(model).get_concrete_function()
    converted = ov.convert_model(concrete)
    # OpenVINO's frontend turns the IdentityN of every custom-gradient op (Keras's swish in
    # EfficientNet) into an extra output, which would be computed and transposed on every
    # call: only the network's own output is kept.
    wanted = concrete.outputs[0].name
    outputs = [candidate for candidate in converted.outputs if wanted in candidate.get_names()]
    if len(outputs) != 1:
        raise ValueError(f"{source.builder}'s converted network has no single output named {wanted}.")
    network = ov.Model(outputs, converted.get_parameters(), converted.get_friendly_name())
    ov.save_model(network, output, compress_to_fp16=False)
    # The next request builds its network in a clean state (and this one's memory is freed).
    keras.backend.clear_session()


def main() -> int:
    try:
        for request in json.loads(sys.stdin.read()):
            convert(
                NetworkSource(request["builder"], request["arguments"], request["identity"]),
                request["output"],
            )
    except WeightsError as error:
        print(str(error).replace("\n", " "), file=sys.stderr)
        return WEIGHTS_ERROR_EXIT
    return 0


if __name__ == "__main__":
    sys.exit(main())
