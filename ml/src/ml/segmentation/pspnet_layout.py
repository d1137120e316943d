"""ChestX-Det's PSPNet (ptsemseg's ``pspnet``, as torchxrayvision ships it), described without a framework.

The network is a dilated ResNet (a three-convolution stem, then four stages of bottleneck
blocks, ``block_config`` of them per stage: [3, 4, 23, 3] for the published ResNet-101-like
one), a pyramid pooling module (average pools to 6, 3, 2 and 1 cells a side, each a 1x1
convolution, then upsampled and concatenated with its input), a 3x3 convolution to 512
channels and a 1x1 classification convolution whose logits are bilinearly upsampled to the
input's size. ``units`` lists every convolution in the checkpoint's key names, so that the
importer, the Keras network and the tests' NumPy reference all read one description.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

PUBLISHED_BLOCK_CONFIG = (3, 4, 23, 3)
POOL_SIZES = (6, 3, 2, 1)
# (input, middle, output channels, stride, dilation) of each residual stage.
STAGES = (
    ("res_block2", 128, 64, 256, 1, 1),
    ("res_block3", 256, 128, 512, 2, 1),
    ("res_block4", 512, 256, 1024, 1, 2),
    ("res_block5", 1024, 512, 2048, 1, 4),
)
BN_SUFFIXES = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")


@dataclass(frozen=True)
class ConvUnit:
    """One convolution: ``prefix`` is its module path in the checkpoint.

    With ``batchnorm`` the convolution (no bias) is ``prefix.0`` and its batch normalisation
    ``prefix.1`` (ptsemseg's ``cbr_unit``/``cb_unit`` sequentials); otherwise it is a bare
    convolution with a bias at ``prefix``.
    """

    prefix: str
    in_channels: int
    out_channels: int
    kernel: int
    stride: int = 1
    padding: int = 0
    dilation: int = 1
    batchnorm: bool = True
    relu: bool = True

    @property
    def keras_name(self) -> str:
        return self.prefix.replace(".", "_")

    def state_shapes(self) -> dict[str, tuple[int, ...]]:
        """The checkpoint's keys of this unit with the shape of each (PyTorch layout)."""
        kernel = (self.out_channels, self.in_channels, self.kernel, self.kernel)
        if not self.batchnorm:
            return {f"{self.prefix}.weight": kernel, f"{self.prefix}.bias": (self.out_channels,)}
        shapes: dict[str, tuple[int, ...]] = {f"{self.prefix}.0.weight": kernel}
        for suffix in BN_SUFFIXES:
            shapes[f"{self.prefix}.1.{suffix}"] = (
                () if suffix == "num_batches_tracked" else (self.out_channels,)
            )
        return shapes


@dataclass(frozen=True)
class Bottleneck:
    """A bottleneck block: cbr1 (1x1), cbr2 (3x3), cb3 (1x1), plus cb4 (1x1 projection) in the first block."""

    cbr1: ConvUnit
    cbr2: ConvUnit
    cb3: ConvUnit
    cb4: ConvUnit | None

    def units(self) -> Iterator[ConvUnit]:
        yield from (self.cbr1, self.cbr2, self.cb3)
        if self.cb4 is not None:
            yield self.cb4


@dataclass(frozen=True)
class PSPNetLayout:
    """Every convolution of the network, in the order of its forward pass."""

    stem: tuple[ConvUnit, ...]
    stages: tuple[tuple[Bottleneck, ...], ...]
    pyramid: tuple[ConvUnit, ...]
    final: ConvUnit
    classification: ConvUnit
    # The auxiliary head only trains; it is in the checkpoint but not in the forward pass.
    auxiliary: tuple[ConvUnit, ...]

    def units(self) -> Iterator[ConvUnit]:
        yield from self.stem
        for blocks in self.stages:
            for block in blocks:
                yield from block.units()
        yield from self.pyramid
        yield from (self.final, self.classification)

    def state_shapes(self) -> dict[str, tuple[int, ...]]:
        """Every key of the network's state dict (without DataParallel's prefix) and its shape."""
        shapes: dict[str, tuple[int, ...]] = {}
        for unit in (*self.units(), *self.auxiliary):
            shapes.update(unit.state_shapes())
        return shapes


def pspnet_layout(num_classes: int, block_config: tuple[int, ...] = PUBLISHED_BLOCK_CONFIG) -> PSPNetLayout:
    """The layout of ptsemseg's ``pspnet(num_classes, block_config)``."""
    if len(block_config) != 4 or any(count < 1 for count in block_config):
        raise ValueError(f"block_config must be four positive block counts, not {block_config!r}.")
    stem = (
        ConvUnit("convbnrelu1_1.cbr_unit", 3, 64, 3, stride=2, padding=1),
        ConvUnit("convbnrelu1_2.cbr_unit", 64, 64, 3, padding=1),
        ConvUnit("convbnrelu1_3.cbr_unit", 64, 128, 3, padding=1),
    )
    stages = []
    for (name, in_channels, middle, out_channels, stride, dilation), count in zip(
        STAGES, block_config, strict=True
    ):
        blocks = []
        for index in range(count):
            prefix = f"{name}.layers.{index}"
            first = index == 0
            # ptsemseg's dilated stages run at stride 1; only the first block of a stage strides.
            block_stride = stride if first else 1
            blocks.append(
                Bottleneck(
                    cbr1=ConvUnit(
                        f"{prefix}.cbr1.cbr_unit", in_channels if first else out_channels, middle, 1
                    ),
                    cbr2=ConvUnit(
                        f"{prefix}.cbr2.cbr_unit",
                        middle,
                        middle,
                        3,
                        stride=block_stride,
                        padding=dilation,
                        dilation=dilation,
                    ),
                    cb3=ConvUnit(f"{prefix}.cb3.cb_unit", middle, out_channels, 1, relu=False),
                    cb4=ConvUnit(
                        f"{prefix}.cb4.cb_unit", in_channels, out_channels, 1, stride=block_stride, relu=False
                    )
                    if first
                    else None,
                )
            )
        stages.append(tuple(blocks))
    pyramid = tuple(
        ConvUnit(f"pyramid_pooling.path_module_list.{index}.cbr_unit", 2048, 2048 // len(POOL_SIZES), 1)
        for index in range(len(POOL_SIZES))
    )
    return PSPNetLayout(
        stem=stem,
        stages=tuple(stages),
        pyramid=pyramid,
        final=ConvUnit("cbr_final.cbr_unit", 4096, 512, 3, padding=1),
        classification=ConvUnit("classification", 512, num_classes, 1, batchnorm=False, relu=False),
        auxiliary=(
            ConvUnit("convbnrelu4_aux.cbr_unit", 1024, 256, 3, padding=1),
            ConvUnit("aux_cls", 256, num_classes, 1, batchnorm=False, relu=False),
        ),
    )


def pyramid_pool_sizes(side: int) -> list[int]:
    """The pyramid's average-pool kernel (= stride) for each pool size on a ``side``-pixel map.

    ptsemseg takes ``int(side / pool_size)``, so the cells do not always number exactly
    ``pool_size`` (a 64-pixel map pools to 6, 3, 2 and 1 cells; an 8-pixel one to 8, 4, 2, 1).
    """
    return [int(side / size) for size in POOL_SIZES]


def feature_side(input_side: int) -> int:
    """The side of the backbone's output map: three halvings (stem, max pool, res_block3).

    Each is a 3x3 window at stride 2 with one pixel of padding (or a 1x1 at stride 2),
    which maps n pixels to (n - 1) // 2 + 1.
    """
    side = input_side
    for _ in range(3):
        side = (side - 1) // 2 + 1
    return side
