"""Training DenseNet121 on ChestX-ray14 or a labelled CSV: ``python -m ml train``.

Importing this package is cheap: only ``ml.training.trainer`` and the modules it runs
(``backbone``, ``monitoring``, ``checkpoints``, ``cards``, ``pipeline``, ``losses`` and
``initialisation``) import TensorFlow, and the CLI imports them only when a run starts.
"""
