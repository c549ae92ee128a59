"""`outage simulate storm`: drive a simulated storm against a running server."""

import asyncio
import json
import secrets
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from grid_topology.geojson import GridFormatError, read_grid
from grid_topology.model import GridModel
from outage.cli.common import err, fail
from outage.clock import Clock
from outage.settings import get_settings
from outage.simulation.client import StormClient
from outage.simulation.headend import SimulatedHeadEnd
from outage.simulation.runner import StormOptions, StormRunner, StormState
from outage.simulation.storm import StormGrid

app = typer.Typer(help="Simulated storms against a running server.", no_args_is_help=True)

GridOption = Annotated[
    str | None,
    typer.Option(
        help="The grid the server holds: a GeoJSON grid file or a SimBench code "
        "(needs the simbench extra); the bundled sample when left out"
    ),
]


def load_grid(grid: str | None) -> GridModel:
    """A GeoJSON file when `grid` names one, else a SimBench code; the sample when None."""
    if grid is None:
        return read_grid(get_settings().sample_grid)
    path = Path(grid)
    if path.is_file():
        try:
            return read_grid(path)
        except GridFormatError as exc:
            fail(f"{path} is not a valid grid file:\n{exc}")
    from grid_topology.simbench import SimbenchUnavailable, import_simbench

    try:
        with err.status(f"Reading SimBench grid {grid} ..."):
            return import_simbench(grid)
    except (SimbenchUnavailable, ValueError) as exc:
        fail(f"{grid!r} is neither a grid file nor a SimBench grid: {exc}")


def play(
    model: GridModel,
    url: str,
    options: StormOptions,
    *,
    api_key: str | None,
    token: str | None,
    console: Console | None,
    approver_token: str | None = None,
    extra: Callable[[], list[tuple[str, str]]] | None = None,
    headend: SimulatedHeadEnd | None = None,
    dates: Clock | None = None,
) -> StormState:
    """Run the storm until it is over or Ctrl-C stops it (cleanly: messages in flight land).
    A simulated AMI head-end given answers its pings as this storm leaves the meters."""
    grid = StormGrid.from_model(model)

    async def main() -> StormState:
        async with StormClient(
            url,
            gateway_key=api_key,
            token=token,
            approver_token=approver_token,
            seed=options.seed,
        ) as client:
            runner = StormRunner(
                grid,
                client,
                options,
                run_id=f"sim-{options.seed}-{secrets.token_hex(4)}",
                console=console,
                extra=extra,
                dates=dates,
            )
            if headend is not None:
                headend.is_off = runner.meter_off
            loop = asyncio.get_running_loop()
            loop.add_signal_handler(signal.SIGINT, runner.stop)
            loop.add_signal_handler(signal.SIGTERM, runner.stop)
            try:
                return await runner.run()
            finally:
                loop.remove_signal_handler(signal.SIGINT)
                loop.remove_signal_handler(signal.SIGTERM)

    return asyncio.run(main())


@app.command("storm")
def storm(
    faults: Annotated[int, typer.Option(min=1, help="Faults per storm")] = 6,
    call_rate: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of customers out who report")
    ] = 0.2,
    seed: Annotated[int, typer.Option(help="Seed: the same seed, the same storm")] = 0,
    speed: Annotated[
        float, typer.Option(min=0.1, help="Simulated seconds per second of wall time")
    ] = 10.0,
    noise: Annotated[
        float, typer.Option(min=0.0, help="Noise calls (customers not out), per real call")
    ] = 0.05,
    waves: Annotated[
        int, typer.Option(min=0, help="Storms one after the other; 0: until Ctrl-C")
    ] = 1,
    url: Annotated[str, typer.Option(help="Base URL of the running server")] = (
        "http://127.0.0.1:8000"
    ),
    api_key: Annotated[
        str | None,
        typer.Option(
            envvar="OUTAGE_SIMULATE_API_KEY",
            help="API key with the channels and ami scopes: SMS, IVR and smart meters "
            "(without it every customer uses the web form and meters stay silent)",
        ),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            envvar="OUTAGE_SIMULATE_TOKEN",
            help="Bearer token of a dispatcher: crews follow the dispatch plan and the "
            "summary counts incidents (without it no crews move)",
        ),
    ] = None,
    approver_token: Annotated[
        str | None,
        typer.Option(
            envvar="OUTAGE_SIMULATE_APPROVER_TOKEN",
            help="Bearer token of a second member of staff who may approve switching orders",
        ),
    ] = None,
    grid: GridOption = None,
    switching: Annotated[
        bool,
        typer.Option(
            help="Start with a fault switching can restore around, and restore by the "
            "service's best plan as a control room would (needs --token and "
            "--approver-token)"
        ),
    ] = False,
) -> None:
    """Faults over time, customers reporting, meters' last gasps and crews restoring.

    Prints the run's figures as JSON on stdout when the storm is over.
    """
    options = StormOptions(
        faults=faults,
        call_rate=call_rate,
        seed=seed,
        speed=speed,
        noise=noise,
        waves=waves or None,
        crews=token is not None,
        switching=switching and token is not None and approver_token is not None,
    )
    state = play(
        load_grid(grid),
        url,
        options,
        api_key=api_key,
        token=token,
        approver_token=approver_token,
        console=err,
    )
    accepted = [r for r in state.receipts if r.sent.accepted]
    typer.echo(
        json.dumps(
            {
                "waves": state.wave,
                "faults": len(state.faults),
                "repaired": len(state.repaired),
                "reports_sent": len(state.receipts),
                "reports_accepted": len(accepted),
                "reports_skipped": state.skipped,
                "last_gasps": state.gasps,
                "power_restored": state.restores,
                "active_incidents": state.active_incidents,
                "switching": state.switching,
                "restored_by_switching": state.restored_by_switching,
                "customer_minutes_saved": round(state.minutes_saved_at(state.sim_s)),
            }
        )
    )
