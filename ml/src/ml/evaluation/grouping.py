"""Pooling the scores of a group's members into the group's score: a patient's slices or images.

"mean" averages the members' scores (the published CT work's patient result); "max" takes
the highest (one suspicious image or slice makes the case). No TensorFlow, only NumPy.
"""

from __future__ import annotations

import numpy as np

AGGREGATION_RULES = ("mean", "max")


def check_rule(rule: str) -> None:
    if rule not in AGGREGATION_RULES:
        raise ValueError(f"Unknown aggregation rule {rule!r}; use one of {', '.join(AGGREGATION_RULES)}.")


def pool(scores: np.ndarray, rule: str) -> float:
    """One group's score from its members' (a non-empty 1-D array)."""
    check_rule(rule)
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 1 or scores.size == 0:
        raise ValueError(f"Expected a non-empty 1-D array of scores, got shape {scores.shape}.")
    return float(scores.mean() if rule == "mean" else scores.max())


def pool_groups(scores: np.ndarray, group_index: np.ndarray, groups: int, rule: str) -> np.ndarray:
    """Each group's pooled scores: ``scores`` (n, C) with ``group_index[i]`` in [0, groups) -> (groups, C).

    Every group must have at least one member.
    """
    check_rule(rule)
    scores = np.asarray(scores, dtype=np.float64)
    group_index = np.asarray(group_index, dtype=np.int64)
    if scores.ndim != 2 or group_index.shape != (scores.shape[0],):
        raise ValueError(
            f"Expected (n, C) scores and n group indices, got {scores.shape} and {group_index.shape}."
        )
    sizes = np.bincount(group_index, minlength=groups)
    if sizes.size != groups or np.any(sizes == 0):
        raise ValueError("Every group needs at least one member, and group indices must be below groups.")
    if rule == "mean":
        pooled = np.zeros((groups, scores.shape[1]))
        np.add.at(pooled, group_index, scores)
        return pooled / sizes[:, None]
    pooled = np.full((groups, scores.shape[1]), -np.inf)
    np.maximum.at(pooled, group_index, scores)
    return pooled
