"""A run's checkpoint under mixed precision: the loss-scaling optimizer resumes with its whole state.

Training in float16 on a CPU is emulated and slow (a DenseNet121 epoch took minutes), so this
checks what mixed precision adds to a resume without training in float16: the optimizer Keras
builds under the run's precision policy is stepped on float32 gradients, checkpointed and
restored into the freshly compiled optimizer of a resumed stage. The end-to-end resume tests
(classifier, screener) train in float32.
"""

from __future__ import annotations

import re

import numpy as np


def network_and_compiled_logits_model():
    """A one-layer network and its compiled logits model built as the trainers build theirs."""
    import keras

    from ml.training.backbone import make_optimizer
    from ml.training.runs import training_precision

    with training_precision(True):
        inputs = keras.Input((3,))
        outputs = keras.layers.Dense(2, name="head")(inputs)
        network = keras.Model(inputs, outputs, name="network")
        # Named, as the trainers' logits models are: Adam names its moments after the model.
        logits = keras.Model(inputs, outputs, name="logits")
        logits.compile(optimizer=make_optimizer("adam", 1e-2), loss="mse")
    return network, logits


def optimizer_values(model) -> dict[str, np.ndarray]:
    """The optimizer's variables by path ("loss_scale_optimizer/dynamic_scale", "adam/iteration").

    Keras numbers the optimizers of a process ("adam", "adam_1", ...): the number is left out.
    """
    return {
        re.sub(r"^(\w+?)(_\d+)?/", r"\1/", variable.path): np.array(variable)
        for variable in model.optimizer.variables
    }


def test_a_loss_scaling_optimizer_resumes_with_its_scale_its_counters_and_adams_moments(tmp_path):
    import keras

    from ml.training.checkpoints import LAST_OPTIMIZER, LAST_WEIGHTS, _save_optimizer, restore_stage

    network, model = network_and_compiled_logits_model()
    # As on a GPU: compiling under the mixed policy wraps Adam in loss scaling.
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    optimizer = model.optimizer
    optimizer.build(model.trainable_variables)
    rng = np.random.default_rng(0)
    for step in range(4):
        gradients = [
            rng.normal(size=variable.shape).astype(np.float32) for variable in model.trainable_variables
        ]
        if step == 2:
            gradients[0][0, 0] = np.inf  # an overflow: the step is skipped and the scale halved
        optimizer.apply(gradients, model.trainable_variables)
    saved = optimizer_values(model)
    # 3 Adam steps and 1 skipped; the scale halved from 2**15 and counted 1 good step since.
    assert saved["adam/iteration"] == 3 and saved["loss_scale_optimizer/dynamic_scale"] == 2.0**14
    assert saved["loss_scale_optimizer/step_counter"] == 1
    (velocity,) = [value for name, value in saved.items() if name.endswith("head_kernel_velocity")]
    assert np.all(velocity > 0)
    network.save_weights(tmp_path / LAST_WEIGHTS)
    _save_optimizer(optimizer, tmp_path / LAST_OPTIMIZER)

    resumed_network, resumed = network_and_compiled_logits_model()
    restore_stage(resumed_network, resumed, tmp_path, {"epochs_done": 1})
    # The resumed stage's optimizer has other names ("adam_1" after "adam"), as in a resumed run's
    # process; each variable is restored into its namesake all the same.
    assert [v.path for v in resumed.optimizer.variables] != [v.path for v in optimizer.variables]
    restored = optimizer_values(resumed)
    assert restored.keys() == saved.keys()
    for name, value in saved.items():
        np.testing.assert_array_equal(restored[name], value, err_msg=name)
    for original, loaded in zip(network.get_weights(), resumed_network.get_weights(), strict=True):
        np.testing.assert_array_equal(loaded, original)
