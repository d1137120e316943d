"""Chest X-ray model package: registry, preprocessing, inference engine, Grad-CAM and CLI.

Importing ``ml`` is deliberately cheap: TensorFlow is only imported by the modules that
run the network (``ml.model``, ``ml.weights``, ``ml.engine``), so the web process can
describe the active model and decode uploads without paying for it.
"""
