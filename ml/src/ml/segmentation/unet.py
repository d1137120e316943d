"""The U-Net with an EfficientNetB0 encoder that ``python -m ml train-segmentation`` trains.

The encoder is Keras's EfficientNetB0 (no top, ``weights=None``: nothing is downloaded),
or a narrower, shallower EfficientNet for quick runs (``encoder_scale``: width and depth
multipliers of B0's, (1, 1) being B0 itself);
its activations at 1/2, 1/4, 1/8 and 1/16 of the input feed the decoder's skip
connections, as in the usual EfficientNet U-Nets. Each decoder step doubles the
resolution, concatenates the skip and applies two 3x3 convolution, batch-normalisation and
ReLU units; a 1x1 convolution gives one logit per structure at the input's resolution
(independent sigmoids: structures overlap, a clavicle lies over a lung).
"""

from __future__ import annotations

import keras

# Keras's generic EfficientNet: EfficientNetB0 is EfficientNet(1.0, 1.0, 224, 0.2, ...).
from keras.src.applications.efficientnet import EfficientNet

# Encoder activations the decoder reads, from the deepest skip to the shallowest.
SKIP_LAYERS = (
    "block6a_expand_activation",
    "block4a_expand_activation",
    "block3a_expand_activation",
    "block2a_expand_activation",
)
DECODER_PREFIX = "decoder_"
LOGITS_LAYER = "segmentation_logits"
INPUT_CHANNELS = 3
BATCHNORM_MOMENTUM = 0.9


def build_unet(
    num_structures: int,
    input_size: int,
    decoder_filters: tuple[int, ...] = (256, 128, 64, 32, 16),
    encoder_scale: tuple[float, float] = (1.0, 1.0),
) -> keras.Model:
    """The U-Net for ``num_structures`` outputs on ``input_size`` square, three-channel input.

    Returns logits of shape (batch, input_size, input_size, num_structures), float32 even
    under a mixed-precision policy (so the loss and thresholds are computed exactly).
    """
    if input_size % 32:
        raise ValueError(f"The U-Net's input size must be a multiple of 32, not {input_size}.")
    if len(decoder_filters) != len(SKIP_LAYERS) + 1:
        raise ValueError(
            f"The U-Net needs {len(SKIP_LAYERS) + 1} decoder widths, not {len(decoder_filters)}."
        )
    width, depth = encoder_scale
    if not (0 < width <= 1 and 0 < depth <= 1):
        raise ValueError(
            f"The encoder's width and depth multipliers must lie in (0, 1], not {encoder_scale}."
        )
    encoder = EfficientNet(
        width,
        depth,
        224,
        0.2,
        include_top=False,
        weights=None,
        input_shape=(input_size, input_size, INPUT_CHANNELS),
        name="efficientnetb0" if encoder_scale == (1.0, 1.0) else "efficientnet_scaled",
    )
    x = encoder.get_layer("top_activation").output
    skips = [encoder.get_layer(name).output for name in SKIP_LAYERS] + [None]
    for step, (filters, skip) in enumerate(zip(decoder_filters, skips, strict=True)):
        name = f"{DECODER_PREFIX}{step}"
        x = keras.layers.UpSampling2D(2, interpolation="nearest", name=f"{name}_upsample")(x)
        if skip is not None:
            x = keras.layers.Concatenate(name=f"{name}_concat")([x, skip])
        for unit in (1, 2):
            x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv{unit}")(x)
            x = keras.layers.BatchNormalization(name=f"{name}_bn{unit}")(x)
            x = keras.layers.ReLU(name=f"{name}_relu{unit}")(x)
    logits = keras.layers.Conv2D(num_structures, 1, dtype="float32", name=LOGITS_LAYER)(x)
    model = keras.Model(encoder.input, logits, name="unet_efficientnetb0")
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            # Segmentation sets are small (JSRT: 247 radiographs, some 30 steps an epoch): at
            # Keras's 0.99 the moving statistics that validation and inference use would lag
            # the training ones for hundreds of steps; at 0.9 they follow within a few dozen.
            layer.momentum = BATCHNORM_MOMENTUM
    return model


def freeze_encoder(model: keras.Model, frozen: bool) -> int:
    """Freeze (or unfreeze) the encoder, keeping decoder and head trainable; return trainable weights.

    A frozen encoder's batch normalisation runs in inference mode, as Keras's fine-tuning
    guide advises.
    """
    for layer in model.layers:
        is_decoder = layer.name.startswith(DECODER_PREFIX) or layer.name == LOGITS_LAYER
        layer.trainable = is_decoder or not frozen
    return sum(int(keras.ops.size(weight)) for weight in model.trainable_weights)
