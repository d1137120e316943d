"""The findings the models of this package report."""

# The 14 ChestX-ray14 findings in the dataset's own spelling and in alphabetical order,
# the order torchxrayvision and CheXNet use too, so imported heads line up by index.
CHESTXRAY14_LABELS: tuple[str, ...] = (
    "Atelectasis",
    "Cardiomegaly",
    "Consolidation",
    "Edema",
    "Effusion",
    "Emphysema",
    "Fibrosis",
    "Hernia",
    "Infiltration",
    "Mass",
    "Nodule",
    "Pleural_Thickening",
    "Pneumonia",
    "Pneumothorax",
)
