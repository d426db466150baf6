"""Benchmarks shipped with the hub: `plantpulse bench NAME [--runs N]`.

Each benchmark measures one figure end to end (timers start before the first event is fired)
and returns it; the runner prints every run and, as the last line, the median in the form
`NAME: VALUE UNIT`. They are not tests: they print figures for the README and closing notes.
"""

from __future__ import annotations

import importlib
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, TextIO

# Modules that register benchmarks when imported.
BENCH_MODULES: Final = (
    "plantpulse.core.bench.core_bench",
    "plantpulse.core.bench.recorder_bench",
    "plantpulse.core.bench.boot_bench",
    "plantpulse.core.bench.automation_bench",
)


@dataclass(frozen=True)
class BenchOptions:
    """Command-line options a benchmark may use."""

    config_dir: Path | None = None


@dataclass(frozen=True)
class Figure:
    """One run's figure, with secondary readings printed beside it (e.g. RSS after boot)."""

    value: float
    extra: dict[str, float] = field(default_factory=dict)


RunOnce = Callable[[BenchOptions], "float | Figure"]


@dataclass(frozen=True)
class Benchmark:
    """A named measurement returning one figure in `unit`; higher is better unless noted."""

    name: str
    unit: str
    description: str
    run_once: RunOnce


BENCHMARKS: dict[str, Benchmark] = {}


def benchmark(name: str, unit: str) -> Callable[[RunOnce], RunOnce]:
    """Register `run_once(options) -> float | Figure` as benchmark `name`."""

    def register(func: RunOnce) -> RunOnce:
        summary = (func.__doc__ or "").strip().splitlines()[0] if func.__doc__ else ""
        BENCHMARKS[name] = Benchmark(name, unit, summary, func)
        return func

    return register


def load_benchmarks() -> dict[str, Benchmark]:
    """Import the benchmark modules (core's and each integration's `bench.py`) and return the
    registry."""
    from plantpulse.core.loader import builtin_modules_named

    for module in (*BENCH_MODULES, *builtin_modules_named("bench")):
        importlib.import_module(module)
    return BENCHMARKS


def format_figure(value: float) -> str:
    """Round a figure for printing: whole numbers when large, three significant digits else."""
    if abs(value) >= 100:
        return f"{value:.0f}"
    return f"{value:.3g}"


def run_benchmark(name: str, runs: int, options: BenchOptions, out: TextIO) -> float:
    """Run a benchmark `runs` times, print each figure, and print the median last."""
    bench = load_benchmarks()[name]
    figures: list[Figure] = []
    for index in range(runs):
        result = bench.run_once(options)
        figure = result if isinstance(result, Figure) else Figure(result)
        figures.append(figure)
        extra = "".join(f", {key} {format_figure(value)}" for key, value in figure.extra.items())
        print(f"run {index + 1}/{runs}: {format_figure(figure.value)} {bench.unit}{extra}",
              file=out, flush=True)
    for key in figures[0].extra:
        median_extra = statistics.median(figure.extra[key] for figure in figures)
        print(f"median {key}: {format_figure(median_extra)}", file=out, flush=True)
    median = statistics.median(figure.value for figure in figures)
    print(f"{name}: {format_figure(median)} {bench.unit}", file=out, flush=True)
    return median
