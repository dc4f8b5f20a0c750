"""A run's results: the JSON file under bench/results/, the table, the large/small comparison."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.floor import FloorResult
from bench.wrk import WrkResult

RESULTS_DIR = Path(__file__).resolve().parent / "results"
MIB = 1024 * 1024
# The longest label: "(f) GET /api/chat/direct/{user_id}/messages".
LABEL_WIDTH = 44


@dataclass
class ScenarioOutcome:
    key: str
    label: str
    skipped: str = ""  # why it did not run; empty when it ran
    api: WrkResult | None = None
    floor: FloorResult | None = None
    rss_peak_bytes: int = 0
    rss_processes: int = 0
    rss_peak_process_bytes: int = 0  # the largest single process of the API (a worker)
    api_cpu_percent: float = 0.0  # the API's process tree; 100 = one core
    # The database servers' CPU while the API was measured, by server (bench.scale reports it)
    server_cpu_percent: dict[str, float] = field(default_factory=dict)
    # CPU used by processes outside the benchmark, per measurement ("api", "floor")
    outside_cpu_percent: dict[str, float] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"key": self.key, "label": self.label}
        if self.skipped:
            return data | {"skipped": self.skipped}
        api, floor = self.api, self.floor
        assert api is not None
        data["api"] = asdict(api) | {
            "requests_per_second": round(api.requests_per_second, 2),
            "error_count": api.error_count,
            "peak_rss_mib": round(self.rss_peak_bytes / MIB, 1),
            "processes": self.rss_processes,
            "peak_rss_per_process_mib": round(self.rss_peak_process_bytes / MIB, 1),
            "cpu_percent": round(self.api_cpu_percent, 1),
            "server_cpu_percent": {k: round(v, 1) for k, v in self.server_cpu_percent.items()},
        }
        data["outside_cpu_percent"] = {k: round(v, 1) for k, v in self.outside_cpu_percent.items()}
        if floor is not None:
            data["floor"] = asdict(floor) | {
                "operations_per_second": round(floor.operations_per_second, 2)
            }
            data["api_over_floor"] = {
                "throughput": _ratio(api.requests_per_second, floor.operations_per_second),
                "p50_latency": _ratio(api.p50_ms, floor.p50_ms),
            }
        return data | self.facts


def _ratio(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 3) if denominator else None


def write(report: dict[str, Any], scale: str, stamp: str) -> Path:
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"{scale}-{stamp}.json"
    path.write_text(json.dumps(report, indent=2, default=str) + "\n")
    return path


def latest(scale: str, measured: Iterable[str] = ()) -> dict[str, Any] | None:
    """The newest result file of a scale (names sort by their UTC time stamp) in which the
    scenarios `measured` (keys) ran; the newest of all if none has them all."""
    files = sorted(RESULTS_DIR.glob(f"{scale}-*.json"), reverse=True)
    wanted = set(measured)
    chosen: dict[str, Any] | None = None
    for path in files:
        data: dict[str, Any] = json.loads(path.read_text())
        data["_file"] = str(path.relative_to(RESULTS_DIR.parent.parent))
        ran = {s["key"] for s in data.get("scenarios", []) if "api" in s}
        if wanted <= ran:
            return data
        chosen = chosen or data
    return chosen


# -- the table -------------------------------------------------------------------------------

HEADER = (
    f"{'scenario':<{LABEL_WIDTH}} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}"
    f" {'RSS MiB':>8} {'/proc':>6} {'cpu%':>5}"
    f" | {'floor/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'err':>4} {'cpu%':>5}"
    f" | {'API/floor req/s':>15} {'p50':>6}"
)


def table(outcomes: list[ScenarioOutcome]) -> str:
    lines = [HEADER, "-" * len(HEADER)]
    for o in outcomes:
        if o.skipped:
            lines.append(f"{o.label:<{LABEL_WIDTH}} skipped: {o.skipped}")
            continue
        api = o.api
        assert api is not None
        line = (
            f"{o.label:<{LABEL_WIDTH}} {api.requests_per_second:>8.1f} {api.p50_ms:>8.1f}"
            f" {api.p99_ms:>8.1f} {api.error_count:>7} {o.rss_peak_bytes / MIB:>8.0f}"
            f" {o.rss_peak_process_bytes / MIB:>6.0f} {o.api_cpu_percent:>5.0f}"
        )
        floor = o.floor
        if floor is None:
            line += f" | {'(no floor)':>8}"
        else:
            line += (
                f" | {floor.operations_per_second:>8.1f} {floor.p50_ms:>8.1f}"
                f" {floor.p99_ms:>8.1f} {floor.errors:>4} {floor.cpu_percent:>5.0f}"
                f" | {api.requests_per_second / floor.operations_per_second:>15.2f}"
                f" {api.p50_ms / floor.p50_ms:>6.2f}"
            )
        lines.append(line)
    return "\n".join(lines)


def failures(outcomes: list[ScenarioOutcome]) -> list[str]:
    """The first failed answer of each scenario that had errors (what to look at first)."""
    found = []
    for o in outcomes:
        if o.api is not None and o.api.error_count:
            found.append(f"{o.label}: {o.api.errors}; first: {o.api.first_failure[:200]}")
        if o.floor is not None and o.floor.errors:
            found.append(f"{o.label} floor: {o.floor.errors} errors; first: {o.floor.first_error}")
    return found


# -- large vs small --------------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    text: str
    # scenario key -> {"api": large/small p50, "floor": large/small p50}
    ratios: dict[str, dict[str, float]]


def compare(labels: dict[str, str]) -> Comparison | None:
    """p50 latency at large over small scale, from the newest result of each that measured
    them; None if a scale has no results yet."""
    small, large = latest("small", labels), latest("large", labels)
    if small is None or large is None:
        return None
    runs = {"small": small, "large": large}
    by_key = {scale: {s["key"]: s for s in run["scenarios"]} for scale, run in runs.items()}
    lines = [
        f"p50 latency, large / small scale ({large['_file']} vs {small['_file']}):",
        f"{'scenario':<{LABEL_WIDTH}} {'API small':>10} {'API large':>10} {'ratio':>7}"
        f" {'floor small':>12} {'floor large':>12} {'ratio':>7}",
    ]
    ratios: dict[str, dict[str, float]] = {}
    for key, label in labels.items():
        s, g = by_key["small"].get(key), by_key["large"].get(key)
        if not s or not g or "api" not in s or "api" not in g:
            lines.append(f"{label:<{LABEL_WIDTH}} not measured at both scales yet")
            continue
        ratios[key] = {"api": round(g["api"]["p50_ms"] / s["api"]["p50_ms"], 3)}
        line = (
            f"{label:<{LABEL_WIDTH}} {s['api']['p50_ms']:>10.1f} {g['api']['p50_ms']:>10.1f}"
            f" {ratios[key]['api']:>7.2f}"
        )
        if "floor" in s and "floor" in g:
            ratios[key]["floor"] = round(g["floor"]["p50_ms"] / s["floor"]["p50_ms"], 3)
            line += (
                f" {s['floor']['p50_ms']:>12.1f} {g['floor']['p50_ms']:>12.1f}"
                f" {ratios[key]['floor']:>7.2f}"
            )
        lines.append(line)
    # The settings that shape a measurement (not how long the harness waits before one).
    shaping = ("concurrency", "duration_s", "warmup_s", "wrk_threads", "api_workers")
    if any(small["settings"].get(k) != large["settings"].get(k) for k in shaping):
        lines.append(
            f"note: the runs differ in settings: small {small['settings']}, "
            f"large {large['settings']}"
        )
    return Comparison("\n".join(lines), ratios)


def security_cost(on: list[ScenarioOutcome], off: list[ScenarioOutcome]) -> str:
    """Requests/s with TLS and Row Level Security on, against the same run without them."""
    lines = [
        "database security (TLS to both databases, Row Level Security) on vs off:",
        f"{'scenario':<{LABEL_WIDTH}} {'on req/s':>10} {'off req/s':>10} {'on/off':>7}",
    ]
    off_by_key = {o.key: o for o in off}
    for secured in on:
        plain = off_by_key.get(secured.key)
        if secured.api is None or plain is None or plain.api is None:
            continue
        rate_on, rate_off = secured.api.requests_per_second, plain.api.requests_per_second
        ratio = _ratio(rate_on, rate_off)
        lines.append(
            f"{secured.label:<{LABEL_WIDTH}} {rate_on:>10.1f} {rate_off:>10.1f} "
            f"{ratio if ratio is not None else float('nan'):>7.2f}"
        )
    return "\n".join(lines)
