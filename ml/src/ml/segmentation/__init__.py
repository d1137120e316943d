"""Anatomy segmentation of the frontal chest radiograph and the cardiothoracic ratio."""
