"""The field's SCADA stand-in: a command is answered by the device's event, once."""

import time
from typing import Any

from outage.orders.scada import HttpScada
from outage.simulation.scada import ScadaField


def _wait_for(events: list[dict[str, Any]], count: int) -> None:
    deadline = time.monotonic() + 5
    while len(events) < count and time.monotonic() < deadline:
        time.sleep(0.01)


def test_a_command_is_answered_by_the_devices_event() -> None:
    events: list[dict[str, Any]] = []
    with ScadaField(events.append, delay_s=0.05) as field:
        HttpScada(field.url).send("Switch 7", True, command_id="order-1-step-1")
        _wait_for(events, 1)
    assert [(e["asset_ref"], e["state"]) for e in events] == [("Switch 7", "open")]
    assert "occurred_at" in events[0]


def test_a_command_sent_again_is_answered_once() -> None:
    events: list[dict[str, Any]] = []
    with ScadaField(events.append, delay_s=0.01) as field:
        for _ in range(2):
            HttpScada(field.url).send("Switch 7", False, command_id="order-1-step-2")
        _wait_for(events, 1)
        time.sleep(0.05)
    assert len(events) == 1 and events[0]["state"] == "closed"
