"""Chest X-ray model package: one analysis pipeline from a file's bytes to findings and heatmaps.

Importing ``ml`` is deliberately cheap: TensorFlow and OpenVINO are only imported where the
network runs (``ml.inference``), so the web process can take in uploads without paying for it.
"""
