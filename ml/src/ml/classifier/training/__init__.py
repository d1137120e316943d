"""Training DenseNet121 on ChestX-ray14 or a labelled CSV: ``python -m ml train`` (``train_cli``).

What is the classifier's alone lives here: its settings (``config``), its two stages over DenseNet121's
dense blocks and ImageNet initialisation (``trainer``, ``backbone``, ``initialisation``) and its card
and validation report (``cards``). The loop, checkpoints, data and monitoring every trainer shares
are ``ml.training``'s. Importing this package is cheap: only ``trainer`` and the modules it runs
import TensorFlow, and the CLI imports them only when a run starts.
"""
