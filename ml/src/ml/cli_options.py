"""Command-line options and messages that several subcommands share, so each reads the same everywhere."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ml.evaluation.acceptance import Target

# ``--threshold card``: the model card's own thresholds rather than ones chosen on the data.
CARD_THRESHOLDS = "card"
# Printed on stderr by every command that runs a network without trained weights.
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


def int_at_least(low: int) -> Callable[[str], int]:
    """An argparse type: an integer of at least ``low``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from error
        if value < low:
            raise argparse.ArgumentTypeError(f"{text!r} must be at least {low}")
        return value

    return parse


def threshold_method(text: str) -> str:
    """An argparse type: ``card`` or a rule ``ml.evaluation.metrics.ThresholdRule.parse`` reads."""
    if text.strip().lower() == CARD_THRESHOLDS:
        return CARD_THRESHOLDS
    from ml.evaluation.metrics import ThresholdRule

    try:
        ThresholdRule.parse(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from error
    return text


def acceptance_targets(text: str) -> tuple[Target, ...]:
    """An argparse type: site acceptance targets (``ml.evaluation.acceptance.parse_targets``)."""
    from ml.evaluation.acceptance import parse_targets

    try:
        return parse_targets(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from error


def profile_name(text: str) -> str:
    """An argparse type: a threshold profile's name (``ml.classifier.threshold_profile``)."""
    from ml.classifier.threshold_profile import profile_name_check
    from ml.errors import WeightsError

    try:
        return profile_name_check(text)
    except WeightsError as error:
        raise argparse.ArgumentTypeError(str(error)) from error
