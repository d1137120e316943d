"""Evaluation as papers report it: ``python -m ml evaluate``."""
