"""The first draft of a clinician's report, written from the study's results.

One sentence per finding above its operating threshold (its probability and threshold), the
screener's verdict and the cardiothoracic ratio, each sentence naming what it came from so that the
web app can link it to the finding or analyser; an untrained model's sentence says so.
"""

from typing import Any, TypedDict

from ml.screener.analyser import SCREENER, ScreenerResult
from ml.segmentation.analyser import SEGMENTATION, SegmentationResult
from reports.formatting import percent_pair
from studies.models import AnalyserRun, Study, StudyStatus
from studies.selectors import analyser_run_result

UNTRAINED_NOTE = " (untrained model — not for clinical use)"


class Source(TypedDict):
    kind: str  # "finding" or "analyser"
    key: str  # the finding's label, or the analyser's kind ("" for the classifier as a whole)


class Sentence(TypedDict):
    text: str
    source: Source


def report_draft_sentences(study: Study) -> list[Sentence]:
    card = study.model_card or {}
    untrained = UNTRAINED_NOTE if card.get("trained") is False else ""
    positives = sorted(
        (finding for finding in study.findings.all() if finding.positive), key=lambda f: -f.probability
    )
    sentences = [
        sentence(
            f"{finding.label.replace('_', ' ')}: {probability} against a threshold of {threshold}, "
            f"above it{untrained}.",
            "finding",
            finding.label,
        )
        for finding in positives
        for probability, threshold in [percent_pair(finding.probability, finding.threshold)]
    ]
    if not positives:
        sentences.append(sentence(f"No finding is above its operating threshold{untrained}.", "finding", ""))
    runs = {run.kind: run for run in study.analyser_runs.all()}
    if SCREENER in runs:
        sentences += screener_sentences(runs[SCREENER])
    if SEGMENTATION in runs:
        sentences += ratio_sentences(runs[SEGMENTATION])
    return sentences


def sentence(text: str, kind: str, key: str) -> Sentence:
    return {"text": text, "source": {"kind": kind, "key": key}}


def run_untrained(run: AnalyserRun) -> str:
    card: dict[str, Any] = run.card or {}
    return UNTRAINED_NOTE if card.get("trained") is False else ""


def screener_sentences(run: AnalyserRun) -> list[Sentence]:
    result = analyser_run_result(run)
    if run.status != StudyStatus.DONE or not isinstance(result, ScreenerResult):
        return []
    probability, threshold = percent_pair(result.probability, result.threshold)
    verdict = "likely abnormal" if result.likely_abnormal else "below its threshold"
    return [
        sentence(
            f"Normal/abnormal screener: {probability} against a threshold of {threshold}, "
            f"{verdict}{run_untrained(run)}.",
            "analyser",
            SCREENER,
        )
    ]


def ratio_sentences(run: AnalyserRun) -> list[Sentence]:
    result = analyser_run_result(run)
    if run.status != StudyStatus.DONE or not isinstance(result, SegmentationResult):
        return []
    ratio = result.cardiothoracic_ratio
    if ratio is None:
        note = result.cardiothoracic_ratio_note or "No cardiothoracic ratio was measured."
        return [sentence(f"Cardiothoracic ratio: not measured. {note}", "analyser", SEGMENTATION)]
    flag = "above the normal range" if ratio.above_range else "within the normal range"
    text = (
        f"Cardiothoracic ratio {ratio.ratio:.2f}, {flag} (at most {ratio.normal_upper_limit:.2f} on a PA "
        f"film){run_untrained(run)}."
    )
    if ratio.caveat:
        text += f" {ratio.caveat}"
    return [sentence(text, "analyser", SEGMENTATION)]


def draft_text(sentences: list[Sentence]) -> str:
    return "\n".join(item["text"] for item in sentences)
