"""``python -m ml predict-ct``, ``train-ct`` and ``evaluate-ct``.

Arguments, data folders and weights are checked before TensorFlow is imported, so mistakes
end in a fraction of a second with one line on stderr and exit status 2 (``ml.cli.main``
turns DataError, ImageError and WeightsError into that).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ml.cli_options import CARD_THRESHOLDS, UNTRAINED_WARNING, int_at_least, threshold_method
from ml.ct.card import CT_WEIGHTS_ENV_VAR, DEFAULT_POSITIVE_GRADES, CTModelCard, describe_ct_model
from ml.ct.mosmed import Volume, find_volumes, parse_grades
from ml.ct.window import DEFAULT_CENTRE, DEFAULT_WIDTH, LungWindow
from ml.errors import DataError, ImageError
from ml.evaluation.grouping import AGGREGATION_RULES


def add_ct_parsers(subparsers: argparse._SubParsersAction) -> None:
    """Register ``predict-ct``, ``train-ct`` and ``evaluate-ct``."""
    weights_help = f"CT weights directory (default ${CT_WEIGHTS_ENV_VAR}, else the untrained network)"

    predict = subparsers.add_parser(
        "predict-ct",
        help="per-slice and patient probabilities for CT series",
        description="Score CT series (a folder or zip of DICOM slices, a multi-frame DICOM, a NIfTI volume).",
    )
    predict.add_argument("series", nargs="+", type=Path, metavar="SERIES")
    predict.add_argument("--weights", type=Path, metavar="DIR", help=weights_help)
    predict.add_argument("--json", action="store_true", help="print one JSON object")
    predict.add_argument("--strip", type=Path, metavar="OUTDIR", help="write OUTDIR/<name>.png slice curves")
    predict.set_defaults(command=_predict_ct)

    train = subparsers.add_parser(
        "train-ct",
        help="train the CT slice ResNet-18 on MosMedData's layout",
        description=(
            "Train the ResNet-18 on DATA/studies/CT-0 ... CT-4/*.nii.gz (MosMedData), split by patient, "
            "steered "
            "by patient-level validation AUROC, and write OUT/card.json + OUT/model.weights.h5 "
            f"({CT_WEIGHTS_ENV_VAR}=OUT) with the threshold chosen by F1 on the validation patients. "
            "The run is checkpointed after every epoch; --resume continues it."
        ),
    )
    train.add_argument("--data", type=Path, required=True, metavar="DIR", help="MosMedData folder")
    train.add_argument(
        "--out", type=Path, required=True, metavar="OUT", help="output folder (new, or --resume)"
    )
    train.add_argument("--resume", action="store_true", help="continue the run in OUT with its own settings")
    _add_grades(train, f"grades counted positive (default {','.join(DEFAULT_POSITIVE_GRADES)}: 25%% or more)")
    train.add_argument("--input-size", type=int_at_least(32), default=224, help="slice pixels a side (224)")
    train.add_argument("--base-filters", type=int_at_least(1), default=64, help="ResNet width (64)")
    train.add_argument("--epochs", type=int_at_least(1), default=30, help="at most this many epochs (30)")
    train.add_argument("--batch-size", type=int_at_least(1), default=32, help="slices per step (32)")
    train.add_argument("--lr", type=_positive_float, default=1e-3, help="Adam learning rate (1e-3)")
    train.add_argument(
        "--val-fraction", type=_fraction, default=0.2, help="share of patients to validate (0.2)"
    )
    train.add_argument(
        "--test-fraction",
        type=_fraction_or_zero,
        default=0.15,
        help="share of patients held out, listed in OUT/test_patients.txt for evaluate-ct --patients (0.15)",
    )
    train.add_argument("--aggregation", choices=AGGREGATION_RULES, default="mean", help="patient rule (mean)")
    train.add_argument("--window-centre", type=float, default=DEFAULT_CENTRE, help="HU (-600)")
    train.add_argument("--window-width", type=_positive_float, default=DEFAULT_WIDTH, help="HU (1500)")
    train.add_argument("--patience", type=int_at_least(1), default=5, help="early-stopping epochs (5)")
    train.add_argument("--mixed-precision", choices=("auto", "on", "off"), default="auto")
    train.add_argument("--bootstrap", type=int_at_least(1), default=1000, metavar="N")
    train.add_argument("--seed", type=int, default=0)
    train.set_defaults(command=_train_ct)

    evaluate = subparsers.add_parser(
        "evaluate-ct",
        help="patient-level accuracy, precision, recall, F1, AUROC (CIs) on MosMedData's layout",
        description=(
            "Score every slice of every volume under DATA/studies/CT-k/, pool per patient, and report "
            "accuracy, "
            "precision, recall, specificity, F1 and AUROC with bootstrap CIs and the confusion matrix at the "
            "threshold. Writes OUT/metrics.json, OUT/report.md, OUT/slice_scores.csv, OUT/patient_scores.csv."
        ),
    )
    evaluate.add_argument("data", type=Path, metavar="DATA", help="MosMedData folder")
    evaluate.add_argument("--out", type=Path, required=True, metavar="OUT")
    evaluate.add_argument("--weights", type=Path, metavar="DIR", help=weights_help)
    _add_grades(evaluate, "grades counted positive (default: the card's)")
    evaluate.add_argument("--patients", type=Path, metavar="FILE", help="evaluate only these patient ids")
    evaluate.add_argument("--aggregate-rule", choices=AGGREGATION_RULES, help="default: the card's")
    evaluate.add_argument(
        "--threshold",
        default="f1",
        type=threshold_method,
        metavar="METHOD",
        help="f1 (default: chosen on these patients), youden, mcc, sensitivity:X, a number, or 'card'",
    )
    evaluate.add_argument("--bootstrap", type=int_at_least(1), default=1000, metavar="N")
    evaluate.add_argument("--seed", type=int, default=0)
    evaluate.set_defaults(command=_evaluate_ct)


def _predict_ct(arguments: argparse.Namespace) -> int:
    from ml.ct.series import read_ct_series

    weights_dir = arguments.weights if arguments.weights is not None else CTModelCard.weights_dir_from_env()
    card = describe_ct_model(weights_dir)
    # Every series is read and checked before the network is built.
    series = []
    for path in arguments.series:
        if not path.exists():
            raise DataError(f"{path}: no such file or folder.")
        try:
            series.append(read_ct_series(path))
        except ImageError as error:
            raise DataError(f"{path}: {error}") from error
    _warn_if_untrained(card)
    from ml.ct.analyser import CTAnalyser
    from ml.ct.strip import ct_strip_png

    analyser = CTAnalyser.load(weights_dir)
    answers: list[dict[str, Any]] = []
    for path, one in zip(arguments.series, series, strict=True):
        result = analyser.score(one)
        answers.append({"path": str(path), "slices": one.slices, "source": one.source, **result.to_dict()})
        if arguments.strip is not None:
            arguments.strip.mkdir(parents=True, exist_ok=True)
            (arguments.strip / f"{path.name.split('.')[0] or 'series'}.png").write_bytes(ct_strip_png(result))
        if not arguments.json:
            print(
                f"{path} ({one.slices} slices, {one.source}): "
                f"patient probability {result.patient_probability:.3f} "
                f"({result.aggregation} of slices), threshold {result.threshold:.3f}, "
                f"{'positive' if result.positive else 'negative'}"
            )
    if arguments.json:
        print(json.dumps({"model": card.to_dict(), "series": answers}, indent=2))
    return 0


def _train_ct(arguments: argparse.Namespace) -> int:
    from ml.training.config import CHECKPOINT_DIR, STATE_FILE, check_output, read_state

    check_output(arguments.out, resume=arguments.resume)
    grades = arguments.positive_grades or DEFAULT_POSITIVE_GRADES
    settings: dict[str, Any] = {
        "data": arguments.data,
        "out": arguments.out,
        "positive_grades": grades,
        "input_size": arguments.input_size,
        "base_filters": arguments.base_filters,
        "epochs": arguments.epochs,
        "batch_size": arguments.batch_size,
        "learning_rate": arguments.lr,
        "validation_fraction": arguments.val_fraction,
        "test_fraction": arguments.test_fraction,
        "aggregation": arguments.aggregation,
        "window": LungWindow(arguments.window_centre, arguments.window_width),
        "early_stopping_patience": arguments.patience,
        "mixed_precision": arguments.mixed_precision,
        "bootstrap": arguments.bootstrap,
        "seed": arguments.seed,
    }
    if arguments.resume:
        # A resumed run keeps its own settings (the data fingerprint is checked too); only --epochs may grow.
        stored = read_state(arguments.out / CHECKPOINT_DIR / STATE_FILE)["config"]
        settings.update({key: stored[key] for key in settings if key not in ("data", "out", "epochs")})
        settings.update(
            positive_grades=tuple(stored["positive_grades"]), window=LungWindow.from_dict(stored["window"])
        )
    find_volumes(arguments.data, settings["positive_grades"])

    from ml.ct.training import CTTrainingConfig, train_ct

    result = train_ct(CTTrainingConfig(**settings), resume=arguments.resume)
    print(
        f"Wrote {result.directory} ({result.card.name} {result.card.version}); "
        f"set {CT_WEIGHTS_ENV_VAR} to use it."
    )
    return 0


def _evaluate_ct(arguments: argparse.Namespace) -> int:
    from ml.evaluation.metrics import ThresholdRule

    weights_dir = arguments.weights if arguments.weights is not None else CTModelCard.weights_dir_from_env()
    card = describe_ct_model(weights_dir)
    grades = arguments.positive_grades or card.positive_grades
    volumes = _restrict(find_volumes(arguments.data, grades), arguments.patients)
    rule = arguments.aggregate_rule or card.aggregation
    threshold: ThresholdRule | float = (
        card.threshold if arguments.threshold == CARD_THRESHOLDS else ThresholdRule.parse(arguments.threshold)
    )
    _warn_if_untrained(card)
    from ml.ct.analyser import CTAnalyser
    from ml.ct.evaluation import ct_table, evaluate_ct, write_ct_evaluation

    evaluation = evaluate_ct(
        CTAnalyser.load(weights_dir),
        volumes,
        rule=rule,
        threshold=threshold,
        resamples=arguments.bootstrap,
        seed=arguments.seed,
    )
    details = {
        "model": {
            "name": card.name,
            "version": card.version,
            "trained": card.trained,
            "weights_sha256": card.weights_sha256,
        },
        "data": str(arguments.data),
        "positive_grades": list(grades),
        "aggregation": rule,
        "slices": int(sum(len(scores) for scores in evaluation.slice_probabilities)),
    }
    write_ct_evaluation(arguments.out, evaluation, details)
    print(ct_table(evaluation.report))
    print(f"Wrote {arguments.out / 'metrics.json'} and {arguments.out / 'report.md'}.")
    return 0


def _restrict(volumes: list[Volume], patients_file: Path | None) -> list[Volume]:
    if patients_file is None:
        return volumes
    from ml.training.tables import read_list

    wanted = set(read_list(patients_file))
    kept = [volume for volume in volumes if volume.patient in wanted]
    if not kept:
        raise DataError(f"None of the patients of {patients_file} is among the volumes.")
    return kept


def _warn_if_untrained(card: CTModelCard) -> None:
    if not card.trained:
        print(UNTRAINED_WARNING, file=sys.stderr)


def _add_grades(parser: argparse.ArgumentParser, help_text: str) -> None:
    parser.add_argument("--positive-grades", type=_grades, metavar="CT-2,CT-3,CT-4", help=help_text)


def _grades(text: str) -> tuple[str, ...]:
    try:
        return parse_grades(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from error


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from error
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive number")
    return value


def _fraction(text: str) -> float:
    value = _positive_float(text)
    if value >= 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be between 0 and 1")
    return value


def _fraction_or_zero(text: str) -> float:
    try:
        if float(text) == 0.0:
            return 0.0
    except ValueError:
        pass
    return _fraction(text)
