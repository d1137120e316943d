"""Chest X-ray model package: one analysis pipeline from a file's bytes to every analyser's results.

Importing ``ml`` is deliberately cheap: TensorFlow and OpenVINO are only imported where a network
is built (``ml.classifier.engine``, ``ml.engine``), so the web process can take in uploads without
paying for it.
"""
