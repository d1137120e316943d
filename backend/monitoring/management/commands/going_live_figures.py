"""``manage.py going_live_figures --out DIR``: the README's figures of going live, from a run on the
shared radiographs through the service's own code (monitoring.acceptance, ml.evaluation.drift).

No trained weights exist here, so the labels are planted: each film is labelled positive with a
chance that rises with the untrained model's own score for the finding (a noisy rank), which gives an
AUROC near 0.8 by construction. The figures show what the acceptance and monitoring produce and how
to read them, not how good any model is. The drift figure compares days of the same films with the
acceptance set: four days of films as they are, then three whose exposure changed (a gamma of 0.6,
as a new detector or export setting would), which moves the scores.
"""

import io
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from ml.evaluation.acceptance import parse_targets
from ml.evaluation.drift import population_stability_index
from ml.evaluation.metrics import ThresholdRule
from ml.evaluation.plots import overview_figure, reliability_panel
from ml.evaluation.predict import ScoredImages, score_images
from monitoring.acceptance import labelled_set_evaluate
from monitoring.labelled_sets import LabelledCase
from studies.inference import ready_pipeline

FINDINGS = ("Effusion", "Cardiomegaly", "Atelectasis")
ALIKE_DAYS, CHANGED_DAYS = 4, 3


class Command(BaseCommand):
    help = "Draw the README's going-live figures (ROC, calibration, drift) from the shared radiographs."

    def add_arguments(self, parser: CommandParser) -> None:
        default = settings.REPO_DIR.parent / "shared" / "data" / "cxr"
        parser.add_argument("--data", type=Path, default=default, help="the shared radiographs' folder")
        parser.add_argument("--out", type=Path, required=True, help="where the PNGs go")

    def handle(self, *args: Any, **options: Any) -> None:
        paths = sorted((options["data"] / "nih").glob("*.png")) + sorted(
            (options["data"] / "nih-screening").glob("*.png")
        )
        pipeline = ready_pipeline()
        rng = np.random.default_rng(0)
        scored = score_images(None, paths, pipeline=pipeline, progress=False)
        labels = scored.card.labels
        ranks = scored.scores.argsort(axis=0).argsort(axis=0) / (len(scored.accepted) - 1)
        cases = [
            LabelledCase(
                name=paths[index].name,
                content=paths[index].read_bytes(),
                labels={
                    finding: int(rng.random() < 0.1 + 0.7 * ranks[row, labels.index(finding)] ** 2)
                    for finding in FINDINGS
                },
            )
            for row, index in enumerate(scored.accepted)
        ]
        _, result = labelled_set_evaluate(
            pipeline=pipeline,
            cases=cases,
            targets=parse_targets("auroc=0.80,sensitivity=0.90"),
            rule=ThresholdRule.parse("sensitivity:0.9"),
            resamples=1000,
        )
        out: Path = options["out"]
        out.mkdir(parents=True, exist_ok=True)
        curves = {
            finding: (np.array(entry["roc"]["fpr"]), np.array(entry["roc"]["tpr"]), entry["auroc"])
            for finding, entry in result["findings"].items()
        }
        (out / "going-live-roc.png").write_bytes(overview_figure(curves))
        (out / "going-live-calibration.png").write_bytes(calibration_figure(result))
        (out / "going-live-drift.png").write_bytes(drift_figure(pipeline, paths, scored, result, rng))
        for finding, entry in result["findings"].items():
            low, high = entry["auroc_ci95"]
            self.stdout.write(
                f"{finding}: AUROC {entry['auroc']:.3f} [{low:.3f}, {high:.3f}], "
                f"ECE {entry['calibration']['ece']:.3f}"
            )
        self.stdout.write(f"Wrote the figures to {out}.")


def calibration_figure(result: dict[str, Any]) -> bytes:
    figure = Figure(figsize=(4.2 * len(result["findings"]), 4.3), dpi=100, layout="constrained")
    panels = figure.subplots(1, len(result["findings"]))
    for axes, (finding, entry) in zip(panels, result["findings"].items(), strict=True):
        reliability_panel(axes, entry["calibration"])
        axes.set_title(f"{finding}: calibration (ECE {entry['calibration']['ece']:.3f})")
    return png(figure)


def drift_figure(
    pipeline: Any,
    paths: list[Path],
    unchanged: ScoredImages,
    result: dict[str, Any],
    rng: np.random.Generator,
) -> bytes:
    """PSI per day for the planted findings: days of the films as they are, then with changed exposure."""
    changed = [exposure_changed(path) for path in paths]
    altered = score_images(None, changed, pipeline=pipeline, progress=False)
    figure = Figure(figsize=(8, 4.3), dpi=100, layout="constrained")
    axes = figure.subplots()
    days = ALIKE_DAYS + CHANGED_DAYS
    for finding in result["findings"]:
        column = unchanged.card.labels.index(finding)
        baseline = np.array(result["findings"][finding]["scores"])
        psi = []
        for day in range(days):
            source = unchanged if day < ALIKE_DAYS else altered
            day_scores = source.scores[rng.choice(len(source.accepted), size=60, replace=False), column]
            psi.append(population_stability_index(baseline, day_scores))
        axes.plot(range(1, days + 1), psi, "o-", label=finding)
    axes.axhline(settings.CXR_DRIFT_PSI_THRESHOLD, color="tab:red", linestyle="--", label="drifted above")
    axes.axvspan(ALIKE_DAYS + 0.5, days + 0.5, color="tab:red", alpha=0.08)
    axes.set_xlabel("day (days 5 to 7: the same films with a changed exposure)")
    axes.set_ylabel("population stability index vs acceptance")
    axes.set_title("Daily score drift against the acceptance baseline (60 studies a day)")
    axes.grid(alpha=0.3)
    axes.legend()
    return png(figure)


def exposure_changed(path: Path) -> Path:
    """The film with a gamma of 0.6 (brighter mid-tones), written to a temporary folder."""
    folder = Path(tempfile.gettempdir()) / "cxr-going-live"
    folder.mkdir(exist_ok=True)
    pixels = np.asarray(Image.open(path).convert("L"), dtype=np.float64) / 255
    target = folder / path.name
    Image.fromarray((255 * pixels**0.6).round().astype(np.uint8)).save(target)
    return target


def png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    FigureCanvasAgg(figure).print_png(buffer)
    return buffer.getvalue()
