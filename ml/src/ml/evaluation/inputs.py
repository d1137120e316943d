"""Read precomputed scores, pair them with ground truth, and aggregate images into studies.

Scores come as a CSV whose first column is the image id and whose other columns hold one
score per finding (``--score-prefix prob_`` reads only the columns ``prob_<finding>``).
Truth comes as NIH's ``Data_Entry_2017.csv`` or as a 0/1 CSV (see
``ml.training.chestxray14``). Images are paired by id, or by file name when the two files
write paths differently; findings are paired by name regardless of case, spaces and
underscores, and are reported under the truth file's spelling.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path, PurePath

import numpy as np

from ml.errors import DataError
from ml.evaluation.grouping import check_rule, pool_groups
from ml.training.chestxray14 import OTHER_LABEL, LabelTable
from ml.training.tables import name_key, read_table

PATIENT_ALIAS = "patient"
STUDY_ALIAS = "study"
# Spellings of a study id column, compared by ``name_key``.
STUDY_COLUMN_KEYS = ("study", "studyid", "studyinstanceuid", "accessionnumber")


@dataclass(frozen=True)
class ScoreTable:
    """Per-image scores: ``scores[i, j]`` is image ``images[i]``'s score for ``findings[j]``."""

    path: Path
    images: tuple[str, ...]
    findings: tuple[str, ...]
    scores: np.ndarray


def read_scores(path: str | os.PathLike[str], prefix: str = "") -> ScoreTable:
    """Read a scores CSV; with ``prefix``, only the columns named ``<prefix><finding>`` count."""
    table = read_table(path)
    if len(table.header) < 2:
        raise DataError(f"{table.path} needs an image column and at least one score column.")
    columns: list[tuple[int, str]] = []
    for position, name in enumerate(table.header[1:], start=1):
        if prefix and not name.startswith(prefix):
            continue
        finding = name[len(prefix) :] if prefix else name
        if not finding:
            raise DataError(f"{table.path}: score column {position + 1} has no finding name.")
        columns.append((position, finding))
    if not columns:
        raise DataError(f"{table.path} has no score column{f' starting with {prefix!r}' if prefix else ''}.")
    findings = [finding for _, finding in columns]
    if len({name_key(finding) for finding in findings}) != len(findings):
        raise DataError(f"{table.path} names a finding twice among its score columns.")
    scores = np.empty((len(table.rows), len(columns)), dtype=np.float64)
    for row_number, row in enumerate(table.rows):
        for column_number, (position, finding) in enumerate(columns):
            value = _finite(row[position])
            if value is None:
                raise DataError(
                    f"{table.path}, line {row_number + 2}: the score for {finding!r} is {row[position]!r}, "
                    "not a number."
                )
            scores[row_number, column_number] = value
    images = tuple(row[0] for row in table.rows)
    if len(set(images)) != len(images):
        raise DataError(f"{table.path} lists an image twice.")
    return ScoreTable(path=table.path, images=images, findings=tuple(findings), scores=scores)


@dataclass(frozen=True)
class Paired:
    """Scores and truth for the same cases and findings, ready for the metrics.

    ``cases`` are image ids, or group ids after ``aggregate``; ``findings`` are named as in
    the truth file and ``score_findings`` as in the scores file; ``dropped_scores`` counts
    scored images absent from the truth file, ``unscored`` truth images without scores,
    and ``unmatched_findings`` the score columns no truth column matches.
    """

    cases: tuple[str, ...]
    findings: tuple[str, ...]
    score_findings: tuple[str, ...]
    truth: np.ndarray
    scores: np.ndarray
    images: int
    dropped_scores: int
    unscored: int
    unmatched_findings: tuple[str, ...]
    aggregated_by: str | None = None
    aggregation_rule: str | None = None


def pair(scores: ScoreTable, truth: LabelTable) -> Paired:
    """Pair rows by image id (or file name) and columns by finding name."""
    truth_rows = _match_images(scores, truth)
    score_columns, truth_findings, unmatched = [], [], []
    for column, finding in enumerate(scores.findings):
        index = truth.find(finding)
        if index is not None:
            truth_findings.append(truth.findings[index])
            score_columns.append(column)
        elif name_key(finding) == name_key(OTHER_LABEL):
            try:
                truth.project([OTHER_LABEL])
            except DataError:
                unmatched.append(finding)
                continue
            truth_findings.append(OTHER_LABEL)
            score_columns.append(column)
        else:
            unmatched.append(finding)
    if not score_columns:
        raise DataError(
            f"No score column of {scores.path} names a finding of {truth.path} "
            f"(scores: {', '.join(scores.findings)}; truth: {', '.join(truth.findings)})."
        )
    kept = [row for row, match in enumerate(truth_rows) if match is not None]
    if not kept:
        raise DataError(f"No image of {scores.path} is listed in {truth.path}.")
    matched_truth = truth.subset([truth_rows[row] for row in kept]).project(truth_findings)
    return Paired(
        cases=matched_truth.images,
        findings=tuple(truth_findings),
        score_findings=tuple(scores.findings[column] for column in score_columns),
        truth=matched_truth.labels,
        scores=scores.scores[np.ix_(kept, score_columns)],
        images=len(kept),
        dropped_scores=len(truth_rows) - len(kept),
        unscored=len(truth) - len(kept),
        unmatched_findings=tuple(unmatched),
    )


def aggregate(paired: Paired, truth: LabelTable, column: str, rule: str = "mean") -> Paired:
    """Study-level cases: each group's images' scores pooled by ``rule`` ("mean" or "max"),
    positive if any image is.

    ``column`` names a truth-file column holding the group (a study or patient id);
    "patient" picks the table's patient column (``Patient ID`` in NIH's file) and "study"
    its study column (``Study ID``, ``StudyInstanceUID`` ...). A patient's or study's
    label is positive when any of its images is, as for the slices of one CT.
    """
    check_rule(rule)
    if column == PATIENT_ALIAS:
        name = truth.patient_column()
    elif column == STUDY_ALIAS:
        name = next((c for c in truth.metadata if name_key(c) in STUDY_COLUMN_KEYS), None)
    else:
        name = column
    groups_of_image = truth.metadata_column(name) if name else None
    if groups_of_image is None:
        available = ", ".join(truth.metadata) or "none"
        raise DataError(
            f"{truth.path} has no column {column!r} to aggregate by (its other columns: {available})."
        )
    group_of = dict(zip(truth.images, groups_of_image, strict=True))
    groups = [group_of[image] for image in paired.cases]
    if any(not group for group in groups):
        raise DataError(f"{truth.path}: some images have an empty {name!r}.")
    names, inverse = np.unique(np.array(groups, dtype=object), return_inverse=True)
    scores = pool_groups(paired.scores, inverse, len(names), rule)
    labels = np.zeros((len(names), paired.truth.shape[1]), dtype=np.uint8)
    np.maximum.at(labels, inverse, paired.truth)
    return Paired(
        cases=tuple(str(name) for name in names),
        findings=paired.findings,
        score_findings=paired.score_findings,
        truth=labels,
        scores=scores,
        images=paired.images,
        dropped_scores=paired.dropped_scores,
        unscored=paired.unscored,
        unmatched_findings=paired.unmatched_findings,
        aggregated_by=name,
        aggregation_rule=rule,
    )


def _match_images(scores: ScoreTable, truth: LabelTable) -> list[int | None]:
    """For each scored image, its row in the truth table (by id, else by unique file name), or None."""
    by_id = {image: row for row, image in enumerate(truth.images)}
    by_name: dict[str, int | None] = {}
    for row, image in enumerate(truth.images):
        name = PurePath(image).name
        by_name[name] = None if name in by_name else row
    matches: list[int | None] = []
    used: set[int] = set()
    for image in scores.images:
        row = by_id.get(image)
        if row is None:
            row = by_name.get(PurePath(image).name)
        if row is not None and row in used:
            raise DataError(f"{scores.path}: two scored images match the truth image {truth.images[row]!r}.")
        if row is not None:
            used.add(row)
        matches.append(row)
    return matches


def _finite(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None
