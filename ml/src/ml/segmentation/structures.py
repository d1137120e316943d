"""The anatomical structures a segmentation model may delineate, by their canonical names.

Left and right are the patient's: on a PA film the patient's left lung lies on the image's
right. The names are snake_case so that they double as folder names of a training set.
"""

from __future__ import annotations

# What the U-Net trained by ``python -m ml train-segmentation`` delineates by default
# (JSRT/SCR has the lungs, heart and clavicles; ribs come from other annotated sets).
UNET_STRUCTURES = ("left_lung", "right_lung", "heart", "left_clavicle", "right_clavicle", "ribs")

# ChestX-Det's 14 structures in the order of the published PSPNet's output channels,
# as torchxrayvision names them, and the canonical name of each.
CHESTX_DET_TARGETS = (
    ("Left Clavicle", "left_clavicle"),
    ("Right Clavicle", "right_clavicle"),
    ("Left Scapula", "left_scapula"),
    ("Right Scapula", "right_scapula"),
    ("Left Lung", "left_lung"),
    ("Right Lung", "right_lung"),
    ("Left Hilus Pulmonis", "left_hilus_pulmonis"),
    ("Right Hilus Pulmonis", "right_hilus_pulmonis"),
    ("Heart", "heart"),
    ("Aorta", "aorta"),
    ("Facies Diaphragmatica", "facies_diaphragmatica"),
    ("Mediastinum", "mediastinum"),
    ("Weasand", "weasand"),
    ("Spine", "spine"),
)

KNOWN_STRUCTURES = tuple(dict.fromkeys([*UNET_STRUCTURES, *(name for _, name in CHESTX_DET_TARGETS)]))
