"""Prometheus gauges of the active model's latest daily snapshot, read from PostgreSQL at scrape time
(every web process reports the same numbers); observability's /metrics includes them."""

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

# The per-finding figures of a snapshot, by the gauge that carries each.
FINDING_GAUGES = {
    "psi": (
        "cxr_drift_psi",
        "Population stability index of the finding's scores against the acceptance baseline",
    ),
    "ks_p_value": (
        "cxr_drift_ks_p_value",
        "Two-sample KS p-value of the finding's scores against the baseline",
    ),
    "above_threshold": (
        "cxr_above_threshold_share",
        "Share of the day's studies above the finding's threshold",
    ),
    "agreement": ("cxr_clinician_agreement", "Clinicians' agreement with the finding on the day's studies"),
}
DAY_GAUGES = {
    "cxr_drifted": "1 when the latest daily snapshot is drifted (its reasons are on the monitoring page)",
    "cxr_intake_refusal_rate": "Share of the day's radiographs the intake refused",
    "cxr_drift_snapshot_timestamp_seconds": "When the latest daily snapshot was computed (Unix time)",
}
EXPORTED_METRICS = frozenset({name for name, _ in FINDING_GAUGES.values()} | set(DAY_GAUGES))


class MonitoringCollector(Collector):
    """Every gauge is declared even before the first snapshot (with no sample), so that dashboards and
    alert rules name metrics that exist."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        # Imported here: the collector is made in AppConfig.ready, before the models may be read.
        from monitoring.selectors import drift_snapshot_latest

        snapshot = drift_snapshot_latest()
        model = [snapshot.model_name, snapshot.model_version] if snapshot else []
        for key, (name, help_text) in FINDING_GAUGES.items():
            family = GaugeMetricFamily(name, help_text, labels=["model", "version", "finding"])
            for finding, entry in (snapshot.findings if snapshot else {}).items():
                if entry.get(key) is not None:
                    family.add_metric([*model, finding], entry[key])
            yield family
        values = (
            {
                "cxr_drifted": float(snapshot.drifted),
                "cxr_intake_refusal_rate": snapshot.refusal_rate,
                "cxr_drift_snapshot_timestamp_seconds": snapshot.computed_at.timestamp(),
            }
            if snapshot
            else {}
        )
        for name, help_text in DAY_GAUGES.items():
            family = GaugeMetricFamily(name, help_text, labels=["model", "version"])
            if values.get(name) is not None:
                family.add_metric(model, values[name])
            yield family
