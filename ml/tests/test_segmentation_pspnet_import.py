"""ChestX-Det's PSPNet checkpoint in: key names, the Keras network against a NumPy reference, refusals."""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
from pspnet_reference import pspnet_forward, random_state
from torch_writer import save_checkpoint

from ml.errors import WeightsError
from ml.segmentation.importer import import_chestx_det, read_pspnet_state
from ml.segmentation.pspnet_layout import pspnet_layout
from ml.segmentation.structures import CHESTX_DET_TARGETS

REDUCED = (1, 2, 1, 1)
CLASSES = len(CHESTX_DET_TARGETS)


def _write_data_parallel(state: dict[str, np.ndarray], path: Path) -> Path:
    return save_checkpoint(OrderedDict((f"module.{key}", value) for key, value in state.items()), path)


def test_published_layout_has_the_checkpoints_key_names_and_shapes() -> None:
    shapes = pspnet_layout(CLASSES).state_shapes()
    # ResNet-101-like: 3 + 4 + 23 + 3 bottlenecks, 4 of them with a projection; 5 keys per batch norm.
    bottleneck_units = 3 * (3 + 4 + 23 + 3) + 4
    units = 3 + bottleneck_units + 4 + 1 + 1  # stem, bottlenecks, pyramid, cbr_final, convbnrelu4_aux
    assert len(shapes) == units * 6 + 2 * 2  # conv weight + 5 batch-norm keys; classification, aux_cls
    assert shapes["convbnrelu1_1.cbr_unit.0.weight"] == (64, 3, 3, 3)
    assert shapes["convbnrelu1_3.cbr_unit.1.running_var"] == (128,)
    assert shapes["res_block3.layers.0.cb4.cb_unit.0.weight"] == (512, 256, 1, 1)
    assert shapes["res_block4.layers.22.cbr2.cbr_unit.0.weight"] == (256, 256, 3, 3)
    assert "res_block4.layers.23.cbr1.cbr_unit.0.weight" not in shapes
    assert shapes["res_block5.layers.2.cb3.cb_unit.1.num_batches_tracked"] == ()
    assert shapes["pyramid_pooling.path_module_list.3.cbr_unit.0.weight"] == (512, 2048, 1, 1)
    assert shapes["cbr_final.cbr_unit.0.weight"] == (512, 4096, 3, 3)
    assert shapes["classification.weight"] == (CLASSES, 512, 1, 1)
    assert shapes["classification.bias"] == (CLASSES,)
    assert shapes["aux_cls.weight"] == (CLASSES, 256, 1, 1)


def test_keras_pspnet_matches_the_numpy_reference_on_a_reduced_configuration(tmp_path: Path) -> None:
    from ml.segmentation.pspnet import assign_pspnet_weights, build_pspnet

    layout = pspnet_layout(CLASSES, REDUCED)
    state = random_state(layout.state_shapes(), seed=3)
    path = _write_data_parallel(state, tmp_path / "pspnet.pth")
    read = read_pspnet_state(path, CLASSES, REDUCED)
    model = build_pspnet(CLASSES, 64, REDUCED)
    assign_pspnet_weights(model, layout, read)
    image = np.random.default_rng(4).normal(0.0, 1.0, (2, 64, 64, 3)).astype(np.float32)

    keras_logits = np.asarray(model(image, training=False))
    reference = pspnet_forward(image, state, REDUCED)

    assert keras_logits.shape == reference.shape == (2, 64, 64, CLASSES)
    assert np.abs(reference).max() > 0.1  # the comparison is not between near-zero maps
    np.testing.assert_allclose(keras_logits, reference, atol=1e-4, rtol=0)


def test_checkpoint_with_a_missing_key_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    state = random_state(pspnet_layout(CLASSES, REDUCED).state_shapes(), seed=0)
    del state["cbr_final.cbr_unit.0.weight"]
    path = _write_data_parallel(state, tmp_path / "broken.pth")
    with pytest.raises(WeightsError, match=r"missing \(cbr_final.cbr_unit.0.weight\)"):
        read_pspnet_state(path, CLASSES, REDUCED)
    out = tmp_path / "out"
    # The importer expects the published configuration; a reduced one lacks most blocks.
    with pytest.raises(WeightsError, match="not ChestX-Det's PSPNet"):
        import_chestx_det(path, out)
    assert not out.exists()


def test_checkpoint_with_a_misshapen_array_is_refused(tmp_path: Path) -> None:
    state = random_state(pspnet_layout(CLASSES, REDUCED).state_shapes(), seed=0)
    state["classification.bias"] = np.zeros(13, dtype=np.float32)
    path = _write_data_parallel(state, tmp_path / "misshapen.pth")
    with pytest.raises(WeightsError, match=r"classification.bias has shape \(13,\), not \(14,\)"):
        read_pspnet_state(path, CLASSES, REDUCED)
