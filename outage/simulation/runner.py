"""The storm loop: play a storm's messages on time, move the crews, show a live summary.

Simulated time runs `speed` times faster than the wall clock. Every time the storm posts
(a meter's last gasp, its power back) is read from its clock (`outage.clock`), the server's
when both run on the same settings; on a scaled clock of the storm's speed (the demo's)
the storm's clock is that clock, so a last gasp at 00:12:00 into it is dated 12 minutes
after the clock's epoch. Each wave is one storm
(`generate_storm`); with `waves=None` a new one starts whenever the last has blown over
(every message sent and, with crews, every fault repaired), until stopped. Messages of
customers whose fault was repaired before they got round to calling are not sent: their
power is back.

With `switching`, the first wave starts with a fault on a line section just below a feeder
head, around which switching can restore customers (`switching_site`), and the control
room restores them by the service's best plan as soon as the engine has its incident
(`ControlRoom`): they have their power back before the repair, and the summary counts
them and the customer-minutes they were spared.
"""

import asyncio
import bisect
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table

from outage import clock
from outage.clock import Clock
from outage.prediction.simulator import Fault
from outage.simulation.client import Sent, StormClient, Tally
from outage.simulation.crews import Fleet
from outage.simulation.storm import (
    METER_SHARE,
    Contact,
    LastGasp,
    Storm,
    StormGrid,
    faults_repaired_by,
    generate_storm,
    switching_site,
)
from outage.simulation.switching import ControlRoom

TICK_S = 1.0
"""Wall seconds between two moves of the crews and two refreshes of the summary."""
GASP_BATCH_S = 0.5
"""Last gasps due within this many wall seconds go to the head-end in one batch."""
WAVE_PAUSE_S = 5.0
"""Wall seconds between two waves."""
INCIDENTS_EVERY_S = 3.0
"""Wall seconds between two counts of the active incidents."""
QUIET_CHECKS = 3


@dataclass(frozen=True)
class StormOptions:
    faults: int = 6
    call_rate: float = 0.2
    seed: int = 0
    speed: float = 10.0
    """Simulated seconds per wall second."""
    noise: float = 0.05
    meter_share: float = METER_SHARE
    """Share of the customers out whose meter's last gasp reaches the head-end."""
    waves: int | None = 1
    """Storms to play one after the other; None: until stopped."""
    crews: bool = True
    """Drive the crews of the dispatch plan (needs a staff token and the crews API)."""
    switching: bool = False
    """Start with a fault switching can restore around, and restore by the service's plan
    as a control room would (needs a dispatcher's token and a second staff token)."""


@dataclass(frozen=True)
class Receipt:
    """A customer's message and what the server answered, after retries."""

    contact: Contact
    sent: Sent

    @property
    def ticket(self) -> str | None:
        body = self.sent.body
        return body.get("ticket") if self.sent.accepted and isinstance(body, dict) else None


@dataclass
class StormState:
    """Everything the live summary shows, and what a test checks afterwards."""

    wave: int = 0
    sim_s: float = 0.0
    faults: list[Fault] = field(default_factory=list)
    started: int = 0
    repaired: set[str] = field(default_factory=set)
    """Devices of the repaired faults (of all waves)."""
    contacts_due: int = 0
    receipts: list[Receipt] = field(default_factory=list)
    skipped: int = 0
    """Calls not made: the caller's power came back first."""
    gasps: int = 0
    gasps_due: int = 0
    restores: int = 0
    """Power-restored meter events sent."""
    unnoticed: int = 0
    """Faults that never became an incident and cleared at the storm's end."""
    active_incidents: int | None = None
    switching: str | None = None
    """What the control room did, when the storm has switching."""
    switched: set[str] = field(default_factory=set)
    """Accounts whose power came back by switching, their fault not yet repaired."""
    switched_at: dict[str, float] = field(default_factory=dict)
    """Account -> simulated second its power came back by switching."""
    restored_by_switching: int = 0
    minutes_saved: float = 0.0
    """Customer-minutes switching spared: from each such customer's restoration to the
    repair of its fault."""
    tally: Tally = field(default_factory=Tally)
    """The client's counts of requests, retries and failures."""

    def minutes_saved_at(self, now_s: float) -> float:
        """Customer-minutes switching spared until `now_s`: in full for the repaired faults,
        so far for the customers whose fault is still being repaired."""
        return self.minutes_saved + sum(now_s - t for t in self.switched_at.values()) / 60


class StormRunner:
    def __init__(
        self,
        grid: StormGrid,
        client: StormClient,
        options: StormOptions,
        *,
        run_id: str,
        console: Console | None = None,
        extra: Callable[[], list[tuple[str, str]]] | None = None,
        dates: Clock | None = None,
    ) -> None:
        self.dates = dates or clock.current()
        """Dates what the storm posts."""
        if self.dates.epoch is not None and self.dates.speed != options.speed:
            raise ValueError(
                f"a storm at x{options.speed:g} on a clock at x{self.dates.speed:g}: "
                "give both the same speed"
            )
        self.grid = grid
        self.client = client
        self.options = options
        self.run_id = run_id
        self.console = console
        self.extra = extra
        self.state = StormState(tally=client.tally)
        site = switching_site(grid) if options.switching else None
        self.control_room = ControlRoom(client, site, grid) if site is not None else None
        self.fleet = (
            Fleet(client, self._repaired, seed=options.seed, cable=self._finds_cable_fault)
            if options.crews
            else None
        )
        self._meter_accounts = {
            r.meter_id: r.account for r in grid.reporters.values() if r.meter_id
        }
        self._sim_zero = 0.0
        self._stop = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._switching: asyncio.Task[None] | None = None
        """The control room at work; apart from the messages, as it waits for an incident."""

    def stop(self) -> None:
        self._stop.set()

    def meter_off(self, meter_id: str) -> bool:
        """Whether the meter's customer is out now: of a fault of the storm not yet repaired
        (its wave begun) and not restored by switching. Asked by the head-end's threads, so
        it reads a copy of the faults and only tests membership of the sets."""
        account = self._meter_accounts.get(meter_id)
        if account is None or account in self.state.switched:
            return False
        repaired = self.state.repaired
        return any(
            account in f.accounts and f.device not in repaired for f in tuple(self.state.faults)
        )

    # --- the clock ---------------------------------------------------------------------

    def _now_s(self) -> float:
        return (time.monotonic() - self._sim_zero) * self.options.speed

    async def _sleep_until(self, sim_s: float) -> bool:
        """Wait for a moment of simulated time; False when stopped first."""
        delay = (sim_s - self._now_s()) / self.options.speed
        if delay > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=delay)
        return not self._stop.is_set()

    async def _wait(self, sim_s: float) -> bool:
        """Wait this many simulated seconds; False when stopped first."""
        return await self._sleep_until(self._now_s() + sim_s)

    # --- the run -----------------------------------------------------------------------

    async def run(self) -> StormState:
        self._sim_zero = time.monotonic()
        if self.dates.epoch is not None:  # the storm's clock is the scaled one
            self._sim_zero -= (datetime.now(UTC) - self.dates.epoch).total_seconds()
        background = [asyncio.create_task(self._crews_and_summary())]
        try:
            wave = 0
            while not self._stop.is_set() and (
                self.options.waves is None or wave < self.options.waves
            ):
                await self._wave(wave)
                wave += 1
                if self.options.waves is None or wave < self.options.waves:
                    await self._sleep_until(self._now_s() + WAVE_PAUSE_S * self.options.speed)
            await self._drain()
            await self._until_repaired()
            await self._drain()  # the network back to normal after the last repair
        finally:
            self._stop.set()
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            if self._switching is not None:
                await asyncio.gather(self._switching, return_exceptions=True)
            await self._drain()
        return self.state

    async def _wave(self, wave: int) -> None:
        storm = self._storm(wave)
        start_s = self._now_s()
        self.state.wave = wave + 1
        self.state.faults.extend(storm.faults)
        self.state.contacts_due += len(storm.contacts)
        self.state.gasps_due += len(storm.gasps)
        if wave == 0 and self.control_room is not None:
            self._switching = asyncio.create_task(self._switch(self.control_room))
        items: list[Contact | LastGasp] = sorted(
            [*storm.contacts, *storm.gasps], key=lambda item: item.time_s
        )
        fault_starts = sorted(f.start_s for f in storm.faults)
        i = 0
        while i < len(items):
            if not await self._sleep_until(start_s + items[i].time_s):
                return
            self.state.started = bisect.bisect_right(fault_starts, self._now_s() - start_s) + (
                len(self.state.faults) - len(storm.faults)
            )
            item = items[i]
            if isinstance(item, LastGasp):
                batch = [item]
                horizon = start_s + item.time_s + GASP_BATCH_S * self.options.speed
                while (
                    i + 1 < len(items)
                    and isinstance(items[i + 1], LastGasp)
                    and (start_s + items[i + 1].time_s <= horizon)
                ):
                    i += 1
                    batch.append(items[i])  # type: ignore[arg-type]
                self._spawn(self._gasps(batch))
            elif item.fault is not None and (
                item.fault in self.state.repaired or item.account in self.state.switched
            ):
                self.state.skipped += 1
            else:
                self._spawn(self._contact(item))
            i += 1
        self.state.started = len(self.state.faults)
        await self._drain()
        await self._until_repaired()

    def _storm(self, wave: int) -> Storm:
        """The next wave, away from every fault not yet repaired."""
        out = frozenset(
            a for f in self.state.faults if f.device not in self.state.repaired for a in f.accounts
        )
        grid = self.grid
        if out:
            candidates = tuple(
                c for c in grid.candidates if grid.topology.downstream(c).accounts.isdisjoint(out)
            )
            grid = replace(grid, candidates=candidates)
        room = self.control_room
        return generate_storm(
            grid,
            faults=self.options.faults,
            call_rate=self.options.call_rate,
            seed=self.options.seed + wave,
            run_id=f"{self.run_id}-w{wave}",
            noise=self.options.noise,
            meter_share=self.options.meter_share,
            gateway=self.client.gateway_key is not None,
            first_at=room.site.tripped if wave == 0 and room is not None else None,
        )

    async def _until_repaired(self) -> None:
        """With crews at work, wait until they have repaired every fault.

        A fault nobody reported (no call, no last gasp) never becomes an incident: once no
        incident has been active for `QUIET_CHECKS` counts, the rest of the storm's faults
        clear unnoticed (a recloser's next shot, a customer's own breaker). A fault whose
        customers all came back by switching has no incident left either: it is repaired
        then, and not counted as unnoticed.
        """
        quiet = 0
        while (
            self.fleet is not None
            and self.fleet.available
            and not self._stop.is_set()
            and any(f.device not in self.state.repaired for f in self.state.faults)
        ):
            await self._sleep_until(self._now_s() + INCIDENTS_EVERY_S * self.options.speed)
            quiet = quiet + 1 if self.state.active_incidents == 0 else 0
            if quiet >= QUIET_CHECKS:
                left = [f for f in self.state.faults if f.device not in self.state.repaired]
                self.state.unnoticed += sum(
                    1 for f in left if not f.accounts <= self.state.switched
                )
                await self._restore(left)

    def _spawn(self, work: Any) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _drain(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _contact(self, contact: Contact) -> None:
        sent = await self.client.report(contact, self.grid.reporters[contact.account])
        self.state.receipts.append(Receipt(contact, sent))

    async def _gasps(self, batch: list[LastGasp]) -> None:
        await self.client.meter_events([g.meter_id for g in batch], "last_gasp", self.dates.now())
        self.state.gasps += len(batch)

    async def _switch(self, room: ControlRoom) -> None:
        """Restore around the first fault by switching. The customers each step brings back
        make no more calls and their meters say power is back; the server tells them."""

        async def pause() -> bool:
            return await self._sleep_until(self._now_s() + INCIDENTS_EVERY_S * self.options.speed)

        async def restored(accounts: frozenset[str]) -> None:
            now_s = self._now_s()
            self.state.switched |= accounts
            self.state.switched_at.update(dict.fromkeys(accounts, now_s))
            self.state.restored_by_switching += len(accounts)
            meters = self.grid.meters(accounts)
            if meters:
                await self.client.meter_events(meters, "power_restored", self.dates.now())
                self.state.restores += len(meters)

        self.state.switching = room.note
        await room.restore(
            pause, self._wait, lambda: room.site.tripped in self.state.repaired, restored
        )
        self.state.switching = room.note
        if room.site.tripped in self.state.repaired:
            await self._back_to_normal(room)  # repaired while the control room switched

    def _found(self, job: dict[str, Any]) -> list[Fault]:
        """The faults not yet repaired that a crew on this job finds."""
        device = job.get("device")
        place = (
            device["asset_ref"]
            if device
            else self.grid.premise_accounts.get(job.get("premise") or "")
        )
        open_faults = [f for f in self.state.faults if f.device not in self.state.repaired]
        return faults_repaired_by(open_faults, place, self.grid.topology)

    def _finds_cable_fault(self, job: dict[str, Any]) -> bool:
        room = self.control_room
        return room is not None and any(f.device == room.site.tripped for f in self._found(job))

    async def _repaired(self, job: dict[str, Any]) -> bool:
        """A crew finished a job: which faults did it repair? Their meters say power is back."""
        fixed = self._found(job)
        await self._restore(fixed)
        return bool(fixed)

    async def _restore(self, fixed: list[Fault]) -> None:
        """These faults are repaired: their customers' meters say power is back."""
        self.state.repaired |= {f.device for f in fixed}
        still_out = {
            a for f in self.state.faults if f.device not in self.state.repaired for a in f.accounts
        }
        back = frozenset(a for f in fixed for a in f.accounts) - still_out - self.state.switched
        meters = self.grid.meters(back)
        if meters:
            await self.client.meter_events(meters, "power_restored", self.dates.now())
            self.state.restores += len(meters)
        now_s = self._now_s()
        for account in {a for f in fixed for a in f.accounts} & self.state.switched:
            self.state.minutes_saved += (now_s - self.state.switched_at.pop(account)) / 60
            self.state.switched.discard(account)
        room = self.control_room
        switching_over = self._switching is not None and self._switching.done()
        if room is not None and switching_over and room.site.tripped in self.state.repaired:
            self._spawn(self._back_to_normal(room))

    async def _back_to_normal(self, room: ControlRoom) -> None:
        """Apart from the crews' moves, which go on meanwhile; the storm waits for it."""
        await room.back_to_normal(self._wait)
        self.state.switching = room.note

    # --- crews and the summary ---------------------------------------------------------

    async def _crews_and_summary(self) -> None:
        live = (
            Live(self._table(), console=self.console, refresh_per_second=2, transient=False)
            if self.console is not None
            else None
        )
        last_s = self._now_s()
        last_incidents = 0.0
        if live is not None:
            live.start()
        try:
            while True:
                now_s = self._now_s()
                self.state.sim_s = now_s
                if self.fleet is not None and self.fleet.available:
                    await self.fleet.tick(now_s, now_s - last_s)
                last_s = now_s
                if (
                    self.client.token is not None
                    and time.monotonic() - last_incidents > INCIDENTS_EVERY_S
                ):
                    last_incidents = time.monotonic()
                    await self._count_incidents()
                if live is not None:
                    live.update(self._table())
                await asyncio.sleep(TICK_S)
        finally:
            if live is not None:
                live.update(self._table())
                live.stop()

    async def _count_incidents(self) -> None:
        found = await self.client.get("/incidents", status="active", limit=1000)
        if found.accepted and isinstance(found.body, list):
            self.state.active_incidents = len(found.body)

    def _table(self) -> Table:
        s, tally = self.state, self.state.tally
        table = Table(title=f"Storm, wave {s.wave}", show_header=False, box=None, padding=(0, 2))
        minutes, seconds = divmod(int(s.sim_s), 60)
        rows: list[tuple[str, str]] = [
            (
                "storm clock",
                f"{minutes // 60:d}:{minutes % 60:02d}:{seconds:02d} (x{self.options.speed:g})",
            ),
            (
                "faults",
                f"{s.started} started, {len(s.repaired) - s.unnoticed} repaired, "
                f"{s.unnoticed} cleared unnoticed, of {len(s.faults)}",
            ),
            (
                "customer reports",
                f"{len(s.receipts)} of {s.contacts_due} sent, {s.skipped} not needed",
            ),
            ("meter events", f"{s.gasps} last gasps, {s.restores} power restored"),
            (
                "requests",
                f"{tally.accepted} accepted, {tally.rejected} refused, "
                f"{tally.lost} lost, {tally.retries} retries",
            ),
        ]
        if s.active_incidents is not None:
            rows.append(("active incidents", str(s.active_incidents)))
        if s.switching is not None:
            rows.append(("switching", s.switching))
            rows.append(
                (
                    "restored by switching",
                    f"{s.restored_by_switching} customers, "
                    f"{s.minutes_saved_at(s.sim_s):,.0f} customer-minutes saved so far",
                )
            )
        if self.fleet is not None and self.fleet.crews:
            counts = self.fleet.counts()
            rows.append(("crews", ", ".join(f"{n} {phase}" for phase, n in counts.items())))
        if self.extra is not None:
            rows.extend(self.extra())
        for name, value in rows:
            table.add_row(f"[bold]{name}[/]", value)
        return table
