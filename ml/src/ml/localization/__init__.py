"""Grad-CAM localisation against ChestX-ray14's boxes: ``python -m ml localize``."""
