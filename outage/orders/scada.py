"""Sending an order's steps to SCADA: a small adapter protocol and its HTTP implementation.

A command is fire-and-forget: the step is *commanded* when SCADA takes the command, and
*done* only when a SCADA event shows the device in the commanded state
(`outage.orders.execution.confirm_by_scada`), since a command can fail in the field.
Without an adapter (`scada_command_url` unset) a crew or the dispatcher confirms each step.
"""

from typing import Protocol

import httpx

from outage.errors import Conflict

COMMAND_TIMEOUT_S = 5.0


class ScadaRefused(Conflict, RuntimeError):
    """SCADA did not take the command: the step stays as it was."""


class ScadaAdapter(Protocol):
    def send(self, asset_ref: str, is_open: bool, *, command_id: str) -> None:
        """Command the device open or closed; raise `ScadaRefused` if SCADA does not take
        it. `command_id` is the same for a command sent again."""


class HttpScada:
    """POSTs `{"command_id", "asset_ref", "state": "open"|"closed"}` as JSON to a URL, with
    the command id as the `Idempotency-Key` header too; any 2xx answer takes the command."""

    def __init__(self, url: str, *, timeout_s: float = COMMAND_TIMEOUT_S) -> None:
        self.url = url
        self.timeout_s = timeout_s

    def send(self, asset_ref: str, is_open: bool, *, command_id: str) -> None:
        body = {
            "command_id": command_id,
            "asset_ref": asset_ref,
            "state": "open" if is_open else "closed",
        }
        try:
            response = httpx.post(
                self.url,
                json=body,
                headers={"Idempotency-Key": command_id},
                timeout=self.timeout_s,
            )
        except httpx.HTTPError as error:
            raise ScadaRefused(f"SCADA could not be reached: {error}") from error
        if not response.is_success:
            raise ScadaRefused(f"SCADA refused the command ({response.status_code})")


def adapter_for(url: str | None) -> ScadaAdapter | None:
    """The adapter the settings name; None: steps are confirmed by hand."""
    return HttpScada(url) if url else None
