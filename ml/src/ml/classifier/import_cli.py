"""``python -m ml import-weights``: a published checkpoint in, a weights directory out."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ml.classifier.importers import FORMATS, import_checkpoint, read_thresholds_file


def add_import_parser(commands: argparse._SubParsersAction) -> None:
    importer = commands.add_parser(
        "import-weights",
        help="convert a published PyTorch DenseNet121 checkpoint into a weights directory",
        description=(
            "Convert a torchxrayvision (.pt) or CheXNet (model.pth.tar) DenseNet121 checkpoint into "
            "card.json + model.weights.h5. PyTorch is not needed, and nothing in the file is run."
        ),
    )
    importer.add_argument("checkpoint", type=Path, metavar="CHECKPOINT", help="the .pt or .pth.tar file")
    importer.add_argument("--format", required=True, choices=FORMATS, dest="checkpoint_format")
    importer.add_argument("--out", required=True, type=Path, metavar="DIR", help="a new weights directory")
    importer.add_argument("--name", help="the card's model name (default: from the checkpoint)")
    importer.add_argument("--version", help="the card's version (default: imported-<file hash>)")
    importer.add_argument(
        "--outputs",
        metavar="NAMES",
        help="comma-separated names of the raw outputs in order, empty for unlearnt ones "
        "(only for checkpoints that do not say)",
    )
    importer.add_argument(
        "--thresholds",
        type=Path,
        metavar="FILE",
        help='JSON {"label": threshold} overriding the operating thresholds, e.g. from the evaluation',
    )
    importer.set_defaults(command=run_import)


def run_import(arguments: argparse.Namespace) -> int:
    # Keras writes the weights file; its start-up chatter is noise here.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    card = import_checkpoint(
        arguments.checkpoint,
        arguments.checkpoint_format,
        arguments.out,
        name=arguments.name,
        version=arguments.version,
        outputs=arguments.outputs.split(",") if arguments.outputs is not None else None,
        thresholds=read_thresholds_file(arguments.thresholds) if arguments.thresholds is not None else None,
    )
    dropped = [name or "(unnamed)" for index, name in enumerate(card.source["outputs"])]
    dropped = [
        name for index, name in enumerate(dropped) if index not in set(card.source["label_outputs"].values())
    ]
    print(f"Imported {arguments.checkpoint} into {arguments.out}: {card.name} {card.version}")
    print(f"  {len(card.labels)} findings: {', '.join(card.labels)}")
    if dropped:
        print(f"  not shown (never learnt): {', '.join(dropped)}")
    print(f"  thresholds from {card.source['thresholds_from']}; weights sha256 {card.weights_sha256}")
    print(f"Use it with CXR_WEIGHTS={arguments.out.resolve()}", file=sys.stderr)
    return 0
