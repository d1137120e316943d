"""The training floor every trainer shares (classifier, screener, segmentation, CT); it imports no model.

The stage loop (``stages``, with ``runs`` around it: a run's state, its precision, the loop over
radiograph label sets), checkpoints and resuming (``checkpoints``, ``config``), the validation AUROC
and progress lines (``monitoring``), the class-balanced loss (``losses``), which layers train and the
optimizer (``backbone``), the tf.data pipeline (``pipeline``), ChestX-ray14's and labelled CSVs'
tables and image sets (``chestxray14``, ``datasets``, ``tables``), the code's provenance and the
options every training command shares (``cli``). Each model's own trainer is in its package
(``ml.classifier.training``, ``ml.screener.training``, ...). Importing this package is cheap: only
``runs``, ``stages``, ``checkpoints``, ``monitoring``, ``pipeline``, ``losses`` and ``backbone``
import TensorFlow.
"""
