"""Command-line options and messages that several subcommands share, so each reads the same everywhere."""

from __future__ import annotations

import argparse

UNTRAINED_WARNING = "UNTRAINED MODEL — not for clinical use: its outputs are random, not findings."


def add_screening_switch(parser: argparse.ArgumentParser) -> None:
    """``--no-screening``: answer every image as the network sees it, as the service never does."""
    parser.add_argument(
        "--no-screening",
        action="store_true",
        help=(
            "skip the service's input screening (and its grey-scale correction): for research data "
            "sets of small or synthetic images it was not made for; the report says so"
        ),
    )
