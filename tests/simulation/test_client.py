"""The storm client retries with the same idempotency key, and gives up in the end."""

import asyncio

from benchmarks.harness import free_port
from outage.notifications.sink import running_sink
from outage.simulation.client import RetryPolicy, Sent, StormClient

FAST = RetryPolicy(first_delay_s=0.01, max_delay_s=0.05, give_up_after_s=5.0, timeout_s=2.0)


def post(url: str, key: str, policy: RetryPolicy = FAST) -> tuple[Sent, int, int, int]:
    """(the outcome, requests accepted, refused, lost) of one POST with an idempotency key."""

    async def send() -> tuple[Sent, int, int, int]:
        async with StormClient(url, retry=policy) as client:
            sent = await client.send(
                "POST", "/sms", json={"text": "hello"}, headers={"Idempotency-Key": key}
            )
            tally = client.tally
            return sent, tally.accepted, tally.retries, tally.lost

    return asyncio.run(send())


def test_a_failing_server_is_retried_with_the_same_key_until_it_answers() -> None:
    with running_sink() as sink:
        sink.fail(requests=3)
        sent, accepted, retries, _ = post(sink.url, "key-1")
        assert sent.accepted and sent.attempts == 4
        assert (accepted, retries) == (1, 3)
        assert list(sink.received()) == ["key-1"]
        assert sink.state.refused == 3
        assert sink.state.repeats == 0


def test_a_server_down_past_the_deadline_loses_the_message() -> None:
    with running_sink() as sink:
        sink.fail(seconds=30)
        sent, accepted, _, lost = post(sink.url, "key-2", RetryPolicy(0.01, 0.05, 0.3, 1.0))
        assert sent.status == 503 and not sent.accepted
        assert (accepted, lost) == (0, 1)
        assert sink.received() == {}


def test_no_answer_at_all_is_retried_then_lost() -> None:
    sent, _, retries, lost = post(
        f"http://127.0.0.1:{free_port()}", "key-3", RetryPolicy(0.01, 0.05, 0.3, 1.0)
    )
    assert sent.status is None
    assert retries >= 1 and lost == 1


async def _holding_server(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answers at once, but never answers a request for /hold."""
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            if b" /hold" in head.split(b"\r\n", 1)[0]:
                await asyncio.sleep(3600)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()


def test_staff_requests_do_not_queue_behind_customers_waiting_for_the_server() -> None:
    async def staff_answer_while_customers_wait() -> int | None:
        server = await asyncio.start_server(_holding_server, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with StormClient(f"http://127.0.0.1:{port}", token="t", concurrency=2) as client:
            customers = [
                asyncio.create_task(client.send("POST", "/hold", json={})) for _ in range(4)
            ]
            await asyncio.sleep(0.2)
            staff = await asyncio.wait_for(client.get("/incidents"), timeout=5)
            for task in customers:
                task.cancel()
            await asyncio.gather(*customers, return_exceptions=True)
        server.close()
        return staff.status

    assert asyncio.run(staff_answer_while_customers_wait()) == 200


async def _conflicting_server(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answers every request 409, as a crew's action on an incident that changed."""
    try:
        while True:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 409 Conflict\r\nContent-Length: 2\r\n\r\n{}")
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()


def test_refusals_are_counted_by_request_and_answer() -> None:
    async def refused() -> dict[str, int]:
        server = await asyncio.start_server(_conflicting_server, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with StormClient(f"http://127.0.0.1:{port}", retry=FAST) as client:
            for incident in (41, 42):
                await client.send("PATCH", f"/incidents/{incident}", json={"action": "on_site"})
            await client.send("POST", "/channels/sms", json={})
        server.close()
        return dict(client.tally.refusals)

    assert asyncio.run(refused()) == {
        "PATCH /incidents/{id} 409": 2,
        "POST /channels/sms 409": 1,
    }
