"""``python -m ml evaluate``: evaluate a model on labelled images, or precomputed scores.

Everything about the inputs is checked before TensorFlow is imported, so a wrong path or
column fails in a fraction of a second with one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ml.cli_options import (
    CARD_THRESHOLDS,
    acceptance_targets,
    add_screening_switch,
    int_at_least,
    profile_name,
    threshold_method,
)
from ml.errors import DataError
from ml.evaluation.grouping import AGGREGATION_RULES


def add_evaluate_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``evaluate`` subcommand."""
    from ml.classifier.registry import WEIGHTS_ENV_VAR

    parser = subparsers.add_parser(
        "evaluate",
        help="AUROC with CIs, curves and operating points against ground truth",
        description=(
            "Evaluate a model on labelled images (--weights) or precomputed scores (--scores) against "
            "--truth: per finding AUROC with a bootstrap CI, ROC/PR/DET plots, an operating threshold "
            "and the confusion-matrix metrics at it. Writes OUT/metrics.json, OUT/plots/ and OUT/report.md."
        ),
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--scores",
        type=Path,
        metavar="FILE.csv",
        help="precomputed scores: image id, then one column per finding",
    )
    source.add_argument(
        "--weights",
        type=Path,
        metavar="DIR",
        help=f"score the images with this weights directory (default ${WEIGHTS_ENV_VAR})",
    )
    parser.add_argument(
        "--truth",
        type=Path,
        required=True,
        metavar="FILE.csv",
        help="NIH Data_Entry_2017.csv, or image id/path then one 0/1 column per finding",
    )
    parser.add_argument("--out", type=Path, required=True, metavar="OUT", help="output folder")
    parser.add_argument(
        "--score-prefix", default="", metavar="PREFIX", help="read only score columns PREFIX<finding>"
    )
    parser.add_argument(
        "--images",
        type=Path,
        metavar="DIR",
        help="where the images are (default: the truth file's folder; searched recursively for NIH ids)",
    )
    parser.add_argument(
        "--image-list", type=Path, metavar="FILE", help="evaluate only these images (e.g. test_list.txt)"
    )
    parser.add_argument(
        "--aggregate",
        metavar="patient|study|COLUMN",
        help="patient- or study-level: pool the scores of each value of this truth column ('patient' for "
        "the patient id column, 'study' for the study id column); a group is positive if any image is",
    )
    parser.add_argument(
        "--aggregate-rule",
        choices=AGGREGATION_RULES,
        default="mean",
        help="how --aggregate pools a group's scores: their mean (default) or their maximum",
    )
    parser.add_argument(
        "--threshold",
        default="f1",
        type=threshold_method,
        metavar="METHOD",
        help="operating threshold: f1, youden, mcc, sensitivity:X, specificity:X, a number, or 'card' "
        "(the model card's thresholds); default f1",
    )
    parser.add_argument(
        "--bootstrap", type=int_at_least(1), default=1000, metavar="N", help="resamples (1000)"
    )
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (0)")
    parser.add_argument(
        "--batch-size", type=int_at_least(1), default=32, metavar="N", help="images per batch"
    )
    parser.add_argument(
        "--targets",
        type=acceptance_targets,
        metavar="NAME=BOUND,...",
        help="site acceptance: say whether each finding meets these targets (auroc, sensitivity, "
        "specificity, ppv, npv at least; ece at most) and the set the refusal rate (refusal_rate at "
        "most), e.g. auroc=0.80,sensitivity=0.90,refusal_rate=0.05",
    )
    parser.add_argument(
        "--profile-out",
        type=Path,
        metavar="DIR",
        help="site thresholds: write the thresholds --threshold chose as the next version of a threshold "
        "profile, DIR/NAME-vN.json, bound to these weights (needs --weights and a rule, not 'card')",
    )
    parser.add_argument(
        "--profile-name",
        type=profile_name,
        default="site",
        metavar="NAME",
        help="the threshold profile's name (lower-case letters, digits, hyphens; default 'site')",
    )
    parser.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    add_screening_switch(parser)
    parser.set_defaults(command=run_evaluate)


def run_evaluate(arguments: argparse.Namespace) -> int:
    from ml.classifier.card import ModelCard
    from ml.classifier.registry import describe_active_model
    from ml.evaluation.acceptance import REFUSAL_RATE, acceptance, describe_acceptance
    from ml.evaluation.binary import describe_operating_point
    from ml.evaluation.inputs import ScoreTable, aggregate, pair, read_scores
    from ml.evaluation.metrics import ThresholdRule
    from ml.evaluation.report import evaluate_findings, write_evaluation
    from ml.training.chestxray14 import read_label_table
    from ml.training.tables import locate_images, read_list

    truth = read_label_table(arguments.truth)
    if arguments.image_list is not None:
        truth = _restrict(truth, read_list(arguments.image_list), arguments.image_list)
    summary = [
        f"truth: `{arguments.truth}`"
        + (f", images of `{arguments.image_list}`" if arguments.image_list else "")
    ]
    details: dict[str, Any] = {"truth": str(arguments.truth), "image_list": _string(arguments.image_list)}
    card = None
    refusal_rate: float | None = None
    if arguments.profile_out is not None and (
        arguments.scores is not None or arguments.threshold == CARD_THRESHOLDS
    ):
        raise DataError(
            "--profile-out needs the model whose thresholds it sets (--weights) and a rule to choose them "
            "(--threshold sensitivity:0.9, f1, youden ...), not the card's own."
        )
    if arguments.scores is not None:
        if arguments.threshold == CARD_THRESHOLDS:
            raise DataError("--threshold card needs a model (--weights), not --scores.")
        if arguments.targets and any(target.metric == REFUSAL_RATE for target in arguments.targets):
            raise DataError(
                "--targets refusal_rate needs a model (--weights) to screen the images, not --scores."
            )
        scores = read_scores(arguments.scores, arguments.score_prefix)
        summary.insert(0, f"scores: `{arguments.scores}`")
        details["scores"] = str(arguments.scores)
    else:
        weights_dir = arguments.weights if arguments.weights is not None else ModelCard.weights_dir_from_env()
        if weights_dir is None:
            raise DataError(
                "Nothing to evaluate: pass --scores FILE.csv or --weights DIR (or set CXR_WEIGHTS)."
            )
        # Validates the card and the weights hash before any image is touched.
        card = describe_active_model(weights_dir)
        root = arguments.images if arguments.images is not None else arguments.truth.parent
        located = locate_images(truth.images, root, by_name=truth.nih_format)
        missing = [image for image, path in zip(truth.images, located, strict=True) if path is None]
        if missing and not truth.nih_format:
            raise DataError(
                f"{len(missing)} image(s) of {arguments.truth} are not under {root}, e.g. {missing[0]}."
            )
        if len(missing) == len(truth.images):
            raise DataError(f"None of the images of {arguments.truth} is under {root}.")
        if missing:
            _warn(f"{len(missing)} image(s) of {arguments.truth} are not under {root}; evaluating the rest.")
            truth = truth.subset([row for row, path in enumerate(located) if path is not None])
        paths = [path for path in located if path is not None]

        from ml.evaluation.predict import score_images, write_scores

        scored = score_images(
            weights_dir, paths, batch_size=arguments.batch_size, screen=not arguments.no_screening
        )
        details["input_screening"] = "off" if arguments.no_screening else "on"
        card = scored.card
        refusal_rate = len(scored.refused) / len(paths)
        details["refusal_rate"] = refusal_rate
        if scored.refused:
            # The service would refuse these files, so they have no answer to evaluate.
            _warn(f"{len(scored.refused)} image(s) refused by the input screening, not scored.")
            details["refused_by_screening"] = scored.refused
        images = [truth.images[row] for row in scored.accepted]
        scores_path = arguments.out / "scores.csv"
        write_scores(scores_path, images, card.labels, scored.scores)
        scores = ScoreTable(path=scores_path, images=images, findings=card.labels, scores=scored.scores)
        summary.insert(
            0,
            f"model: {card.name} {card.version} (weights sha256 {card.weights_sha256}"
            f"{', UNTRAINED' if not card.trained else ''}), scores saved in `scores.csv`",
        )
        details["model"] = {
            "name": card.name,
            "version": card.version,
            "weights_sha256": card.weights_sha256,
            "trained": card.trained,
        }
        details["scores"] = str(scores_path)

    paired = pair(scores, truth)
    if paired.unmatched_findings:
        _warn(f"score column(s) with no truth column, skipped: {', '.join(paired.unmatched_findings)}.")
    if paired.dropped_scores:
        _warn(f"{paired.dropped_scores} scored image(s) are not in the truth file and were skipped.")
    if paired.unscored:
        _warn(f"{paired.unscored} truth image(s) have no score and were skipped.")
    if arguments.aggregate:
        paired = aggregate(paired, truth, arguments.aggregate, arguments.aggregate_rule)
    elif arguments.aggregate_rule != "mean":
        raise DataError("--aggregate-rule needs --aggregate (patient, study or a column).")

    if arguments.threshold == CARD_THRESHOLDS:
        thresholds: Any = {
            finding: card.thresholds[label]
            for finding, label in zip(paired.findings, paired.score_findings, strict=True)
        }
    else:
        thresholds = ThresholdRule.parse(arguments.threshold)
    result = evaluate_findings(
        paired.truth,
        paired.scores,
        paired.findings,
        thresholds=thresholds,
        resamples=arguments.bootstrap,
        seed=arguments.seed,
    )
    if arguments.targets:
        details["acceptance"] = acceptance(result, arguments.targets, refusal_rate=refusal_rate)
    details.update(
        images=paired.images,
        aggregated_by=paired.aggregated_by,
        aggregation_rule=paired.aggregation_rule,
        skipped={
            "score_columns": list(paired.unmatched_findings),
            "scored_images_not_in_truth": paired.dropped_scores,
            "truth_images_without_scores": paired.unscored,
        },
    )
    summary.append(f"images: {paired.images}")
    if arguments.profile_out is not None:
        from ml.classifier.threshold_profile import profile_write

        chosen = {
            label: result["findings"][finding]["threshold"]
            for finding, label in zip(paired.findings, paired.score_findings, strict=True)
        }
        profile = profile_write(
            arguments.profile_out,
            name=arguments.profile_name,
            card=card,
            rule=thresholds.describe(),
            thresholds={label: value for label, value in chosen.items() if value is not None},
            evidence={
                "truth": str(arguments.truth),
                "cases": result["cases"],
                "kept_card_threshold": sorted(label for label, value in chosen.items() if value is None),
            },
        )
        details["threshold_profile"] = str(profile)
        summary.append(f"threshold profile: `{profile}` ({thresholds.describe()})")
    report = write_evaluation(
        arguments.out,
        result,
        paired.truth,
        paired.scores,
        title="Evaluation",
        details=details,
        summary=summary,
        plots=not arguments.no_plots,
    )
    print(_summary_table(result))
    for name, entry in result["findings"].items():
        print(f"{name}: {describe_operating_point(entry)}")
    if arguments.targets:
        print("Site acceptance:")
        for line in describe_acceptance(details["acceptance"]):
            print(f"  {line}")
    print(f"Wrote {arguments.out / 'metrics.json'} and {report}.")
    return 0


def _restrict(truth: Any, listed: list[str], list_path: Path) -> Any:
    wanted = {Path(image).name for image in listed}
    rows = [row for row, image in enumerate(truth.images) if Path(image).name in wanted]
    if not rows:
        raise DataError(f"None of the images of {list_path} is in {truth.path}.")
    return truth.subset(rows)


def _summary_table(result: dict[str, Any]) -> str:
    findings = result["findings"]
    width = max(len("finding"), *(len(name) for name in findings))
    lines = [f"{'finding':<{width}}  AUROC  95% CI           threshold  sensitivity  specificity"]
    for name, entry in findings.items():
        ci = entry["auroc_ci95"]
        lines.append(
            f"{name:<{width}}  {_cell(entry['auroc'], 5)}  "
            f"{(f'[{ci[0]:.3f}, {ci[1]:.3f}]' if ci else '-'):<15}  {_cell(entry['threshold'], 9)}  "
            f"{_cell(entry['tpr'], 11)}  {_cell(entry['tnr'], 11)}"
        )
    mean, ci = result["mean_auroc"], result["mean_auroc_ci95"]
    lines.append(
        f"mean AUROC {_cell(mean, 5).strip()}"
        + (f" (95% CI [{ci[0]:.3f}, {ci[1]:.3f}])" if ci else "")
        + f" over {result['findings_in_mean']} finding(s), {result['cases']} case(s)"
    )
    return "\n".join(lines)


def _cell(value: float | None, width: int) -> str:
    return f"{'-' if value is None else f'{value:.3f}':>{width}}"


def _string(path: Path | None) -> str | None:
    return None if path is None else str(path)


def _warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)
