"""`outage bench`: run the benchmarks and print one JSON object of their figures."""

import json
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from outage.cli.common import err, resolve_database_url


class Section(StrEnum):
    intake = "intake"
    ami = "ami"
    predict = "predict"
    dispatch = "dispatch"
    notify = "notify"
    map = "map"
    scale = "scale"
    switching = "switching"
    load = "load"
    restore = "restore"
    etr = "etr"
    audit = "audit"
    storm = "storm"
    reliability = "reliability"


def bench(
    sections: Annotated[
        list[Section] | None, typer.Argument(help="Benchmarks to run; all when none given")
    ] = None,
    quick: Annotated[bool, typer.Option(help="CI-sized runs")] = False,
) -> None:
    """Measure the system against its baselines; JSON on stdout, progress on stderr."""
    from benchmarks import (
        ami_intake,
        audit,
        dispatch,
        etr,
        intake,
        load,
        notify,
        predict,
        reliability,
        restore,
        scale,
        storm,
        switching,
    )
    from benchmarks import map as map_bench

    runners = {
        Section.intake: intake.run,
        Section.ami: ami_intake.run,
        Section.predict: predict.run,
        Section.dispatch: dispatch.run,
        Section.notify: notify.run,
        Section.map: map_bench.run,
        Section.scale: scale.run,
        Section.switching: switching.run,
        Section.load: load.run,
        Section.restore: restore.run,
        Section.etr: etr.run,
        Section.audit: audit.run,
        Section.storm: storm.run,
        Section.reliability: reliability.run,
    }
    chosen = sections or list(Section)
    # The prediction, dispatch, restoration and ETR benchmarks are in process: no database.
    in_process = {Section.predict, Section.dispatch, Section.restore, Section.etr}
    admin_url = resolve_database_url() if set(chosen) - in_process else ""
    results: dict[str, Any] = {}
    with Progress(
        TextColumn("{task.description:<24}"), BarColumn(), MofNCompleteColumn(), console=err
    ) as progress:
        tasks: dict[str, TaskID] = {}
        logged: dict[str, int] = {}

        def report(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=total)
            progress.update(tasks[stage], completed=done, total=total)
            if not err.is_terminal:  # a log has no live bars: a line per tenth instead
                tenth = done * 10 // max(total, 1)
                if logged.get(stage) != tenth:
                    logged[stage] = tenth
                    err.print(f"{stage}: {done}/{total}")

        for section in chosen:
            results[section.value] = runners[section](admin_url, quick=quick, progress=report)
    for name, figures in results.items():
        summary = ", ".join(
            f"{k}={v}" for k, v in figures.items() if not isinstance(v, list | dict)
        )
        err.print(f"[bold]{name}[/]: {summary}")
    typer.echo(json.dumps(results))
