"""Site acceptance: whether a model's figures on a site's own labelled cases meet the site's targets.

A hospital sets targets before go-live (``auroc=0.80,sensitivity=0.90``): per finding, the AUROC,
the sensitivity, specificity, PPV and NPV at the operating threshold, and the expected calibration
error (ECE) of the probabilities; for the whole set, the share of images the input screening
refused. ``acceptance`` checks each against ``evaluate_findings``' figures: a finding meets the
targets when every one of them holds, and a figure that cannot be measured (no positives, say)
does not hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Each per-finding target's figure: its key in a finding's entry of ``evaluate_findings``.
FINDING_TARGETS = {
    "auroc": "auroc",
    "sensitivity": "tpr",
    "specificity": "tnr",
    "ppv": "ppv",
    "npv": "npv",
    "ece": "ece",
}
REFUSAL_RATE = "refusal_rate"
TARGET_NAMES = (*FINDING_TARGETS, REFUSAL_RATE)
# The figures a target bounds from above; the others from below.
LOWER_IS_BETTER = frozenset({"ece", REFUSAL_RATE})


@dataclass(frozen=True)
class Target:
    metric: str
    bound: float

    @property
    def direction(self) -> str:
        return "at most" if self.metric in LOWER_IS_BETTER else "at least"

    def met_by(self, value: float | None) -> bool:
        if value is None:
            return False
        return value <= self.bound if self.direction == "at most" else value >= self.bound

    def check(self, value: float | None) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "target": f"{self.direction} {self.bound:g}",
            "value": value,
            "met": self.met_by(value),
        }


def parse_targets(text: str) -> tuple[Target, ...]:
    """Targets written ``name=bound,name=bound`` (names: TARGET_NAMES; bounds in [0, 1])."""
    targets: list[Target] = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _, bound_text = item.partition("=")
        name = name.strip().lower()
        if name not in TARGET_NAMES:
            raise ValueError(f"Unknown target {name!r}: use {', '.join(TARGET_NAMES)}.")
        try:
            bound = float(bound_text)
        except ValueError:
            raise ValueError(f"Target {name} needs a number, as in {name}=0.8, not {bound_text!r}.") from None
        if not 0 <= bound <= 1:
            raise ValueError(f"Target {name} must lie in [0, 1], not {bound:g}.")
        if any(target.metric == name for target in targets):
            raise ValueError(f"Target {name} is given twice.")
        targets.append(Target(name, bound))
    if not targets:
        raise ValueError("No targets: write them as auroc=0.80,sensitivity=0.90.")
    return tuple(targets)


def acceptance(
    result: dict[str, Any], targets: tuple[Target, ...], *, refusal_rate: float | None
) -> dict[str, Any]:
    """Each finding's checks against ``targets``, the set's refusal-rate check, and the verdicts."""
    per_finding = [target for target in targets if target.metric in FINDING_TARGETS]
    findings: dict[str, Any] = {}
    for finding, entry in result["findings"].items():
        checks = [target.check(finding_figure(entry, target.metric)) for target in per_finding]
        findings[finding] = {"meets_targets": all(check["met"] for check in checks), "checks": checks}
    set_checks = [target.check(refusal_rate) for target in targets if target.metric == REFUSAL_RATE]
    meeting = [finding for finding, verdict in findings.items() if verdict["meets_targets"]]
    return {
        "targets": [
            {"metric": target.metric, "target": f"{target.direction} {target.bound:g}"} for target in targets
        ],
        "refusal_rate": refusal_rate,
        "set_checks": set_checks,
        "findings": findings,
        "findings_meeting_targets": meeting,
        "accepted": all(check["met"] for check in set_checks) and len(meeting) == len(findings),
    }


def finding_figure(entry: dict[str, Any], metric: str) -> float | None:
    key = FINDING_TARGETS[metric]
    if key == "ece":
        calibration = entry.get("calibration")
        return calibration["ece"] if calibration else None
    return entry.get(key)


def describe_acceptance(verdict: dict[str, Any]) -> list[str]:
    """Lines for a person: the set's checks, then each finding's verdict with what failed."""
    lines = []
    for check in verdict["set_checks"]:
        lines.append(f"{check['metric']}: {_value(check['value'])} ({check['target']}): {_met(check['met'])}")
    for finding, result in verdict["findings"].items():
        failed = [
            f"{check['metric']} {_value(check['value'])}, needs {check['target']}"
            for check in result["checks"]
            if not check["met"]
        ]
        lines.append(
            f"{finding}: meets the targets"
            if not failed
            else f"{finding}: does not meet ({'; '.join(failed)})"
        )
    met = len(verdict["findings_meeting_targets"])
    lines.append(
        f"{met} of {len(verdict['findings'])} findings meet the targets; "
        f"the model is {'accepted' if verdict['accepted'] else 'not accepted'} at this site."
    )
    return lines


def _value(value: float | None) -> str:
    return "not measurable" if value is None else f"{value:.3f}"


def _met(met: bool) -> str:
    return "met" if met else "NOT met"
