"""The control room's refusals: written in the summary, never feeding a fault, undone after."""

import asyncio
from typing import Any

from outage.simulation.client import Sent, StormClient
from outage.simulation.switching import ControlRoom
from outage.simulation.transfer import TransferPlan

PLAN = TransferPlan("B", "SW1", "TIE", frozenset({"beyond"}), frozenset({"front"}))


class Refusing(StormClient):
    """An API with an incident at B that refuses to operate `refused`; records operations."""

    def __init__(self, refused: str) -> None:
        super().__init__("http://127.0.0.1:9")
        self.refused = refused
        self.operations: list[tuple[str, str]] = []

    async def get(self, path: str, **params: Any) -> Sent:
        return Sent(200, 1, [{"id": 7, "device": {"asset_ref": "B"}}])

    async def post(self, path: str, body: dict[str, Any]) -> Sent:
        if body["asset_ref"] == self.refused:
            return Sent(422, 1, {"detail": "not today"})
        self.operations.append((body["asset_ref"], body["state"]))
        return Sent(200, 1, {})

    async def act(self, incident_id: int, action: str, **fields: Any) -> Sent:
        raise AssertionError("nothing was transferred: nobody is told")


async def _never() -> bool:
    raise AssertionError("the incident is there at once")


def test_a_refused_tie_is_noted_and_the_isolating_switch_recloses_after_the_repair() -> None:
    async def switch() -> tuple[bool, ControlRoom, Refusing]:
        client = Refusing("TIE")
        room = ControlRoom(client, PLAN)
        done = await room.transfer(_never, lambda: False)
        await room.back_to_normal()
        return done, room, client

    done, room, client = asyncio.run(switch())
    assert not done
    assert client.operations == [("SW1", "open"), ("SW1", "closed")]
    assert room.note == "back to normal: SW1 closed, tie TIE open"


def test_a_refused_isolation_leaves_the_tie_open_and_says_why() -> None:
    async def switch() -> tuple[bool, ControlRoom, Refusing]:
        client = Refusing("SW1")
        room = ControlRoom(client, PLAN)
        return await room.transfer(_never, lambda: False), room, client

    done, room, client = asyncio.run(switch())
    assert not done
    assert client.operations == []
    assert room.note == "setting SW1 open refused (422: not today)"
