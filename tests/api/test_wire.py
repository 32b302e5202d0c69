"""How answers leave the server: one write per answer, the same bytes and order, and Step Functions'
answers shaped by the front as the routed app shapes the others."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
from typing import Any

import pytest

from pinflow.api import lanes, stepfunctions, wire


class _Transport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False
        self.aborted = False

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name: str) -> str:
        return f"info:{name}"


def _wrapped() -> tuple[asyncio.AbstractEventLoop, _Transport, wire.CoalescingTransport]:
    loop = asyncio.new_event_loop()
    inner = _Transport()
    return loop, inner, wire.CoalescingTransport(inner, loop)  # type: ignore[arg-type]


def _turn(loop: asyncio.AbstractEventLoop) -> None:
    loop.run_until_complete(asyncio.sleep(0))


def test_what_is_written_in_one_turn_of_the_loop_leaves_in_one_write_in_order() -> None:
    loop, inner, transport = _wrapped()
    try:
        transport.write(b"HTTP/1.1 200 OK\r\n\r\n")
        transport.write(bytearray(b"{}"))
        assert inner.writes == []
        assert transport.get_write_buffer_size() == 21
        _turn(loop)
        assert inner.writes == [b"HTTP/1.1 200 OK\r\n\r\n{}"]
        transport.write(b"next")
        _turn(loop)
        assert inner.writes[1:] == [b"next"]
    finally:
        loop.close()


def test_large_writes_and_closing_do_not_wait_for_the_turn_to_end() -> None:
    loop, inner, transport = _wrapped()
    try:
        transport.write(b"x" * wire.HOLD_BYTES)
        assert inner.writes == [b"x" * wire.HOLD_BYTES]
        transport.write(b"head")
        transport.write(b"y" * wire.HOLD_BYTES)  # what was held goes first; the large piece is not copied
        assert inner.writes[1:] == [b"head", b"y" * wire.HOLD_BYTES]
        transport.write(b"last")
        transport.close()
        assert inner.writes[3:] == [b"last"] and inner.closed
        _turn(loop)
        assert len(inner.writes) == 4
        assert transport.get_extra_info("peername") == "info:peername"
    finally:
        loop.close()


def test_an_aborted_connection_drops_what_was_kept() -> None:
    loop, inner, transport = _wrapped()
    try:
        transport.write(b"kept")
        transport.abort()
        _turn(loop)
        assert inner.writes == [] and inner.aborted
    finally:
        loop.close()


def _exchange(port: int, request: bytes, answers: int = 1) -> bytes:
    """The raw bytes the server answers `request` with (until `answers` answers' bodies are in)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request)
        received = b""
        while received.count(b"HTTP/1.1 ") < answers or not _complete(received, answers):
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
        return received


def _complete(received: bytes, answers: int) -> bool:
    rest = received
    for _ in range(answers):
        head, sep, rest = rest.partition(b"\r\n\r\n")
        if not sep:
            return False
        length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                       if line.lower().startswith(b"content-length:")), 0)
        if len(rest) < length:
            return False
        rest = rest[length:]
    return True


def _post(target: str, body: bytes, extra: bytes = b"") -> bytes:
    return (b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-amz-json-1.0\r\n"
            b"X-Amz-Target: " + target.encode() + b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n" + extra
            + b"\r\n" + body)


def test_pipelined_step_functions_requests_are_answered_in_order_with_the_servers_headers(server) -> None:
    one = _post("AWSStepFunctions.ListStateMachines", b"{}")
    two = _post("AWSStepFunctions.DescribeExecution", b'{"executionArn": "nope"}')
    raw = _exchange(server.port, one + two, answers=2)
    first, second = raw.split(b"HTTP/1.1 ")[1:]
    assert first.startswith(b"200 OK") and second.startswith(b"400 Bad Request")
    head = first.partition(b"\r\n\r\n")[0].lower()
    for header in (b"x-amzn-requestid: ", b"content-type: application/x-amz-json-1.0", b"x-pinflow-iam: "):
        assert header in head
    assert json.loads(first.partition(b"\r\n\r\n")[2]) == {"stateMachines": []}
    assert json.loads(second.partition(b"\r\n\r\n")[2])["__type"] == "InvalidArn"


def test_a_client_expecting_100_continue_gets_it_then_the_answer(server) -> None:
    body = b"{}"
    head = (b"POST / HTTP/1.1\r\nHost: localhost\r\nX-Amz-Target: AWSStepFunctions.ListActivities\r\n"
            b"Expect: 100-continue\r\nContent-Length: 2\r\n\r\n")
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(head)
        assert sock.recv(1024).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        sock.sendall(body)
        received = b""
        while not _complete(received, 1):
            received += sock.recv(65536)
    assert received.startswith(b"HTTP/1.1 200 OK") and received.endswith(b'{"activities":[]}')


def test_a_head_request_is_answered_without_a_body(server) -> None:
    raw = _exchange(server.port, b"HEAD /console/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    assert raw.startswith(b"HTTP/1.1 ") and raw.endswith(b"\r\n\r\n")


def test_an_operation_that_breaks_is_an_internal_failure_in_aws_shape(server, monkeypatch: pytest.MonkeyPatch,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    def broken(pf: Any, params: Any) -> dict[str, Any]:
        raise RuntimeError("broken")

    monkeypatch.setitem(stepfunctions.OPERATIONS, "ListActivities", broken)
    with caplog.at_level(logging.DEBUG, logger="pinflow.api"):
        raw = _exchange(server.port, _post("AWSStepFunctions.ListActivities", b"{}"))
    assert raw.startswith(b"HTTP/1.1 500 ")
    assert b"x-pinflow-iam: " in raw.lower()
    assert json.loads(raw.partition(b"\r\n\r\n")[2])["__type"] == "InternalFailure"
    assert any(record.getMessage().startswith("POST / ListActivities 500 ") for record in caplog.records)


def test_blocking_work_hands_back_its_result_or_its_exception() -> None:
    def fails() -> None:
        raise ValueError("no")

    async def both() -> tuple[int, BaseException | None]:
        value = await lanes.blocking(sum, [1, 2, 3])
        try:
            await lanes.blocking(fails)
        except ValueError as exc:
            return value, exc
        return value, None

    value, exc = asyncio.run(both())
    assert value == 6 and str(exc) == "no"


def test_blocking_work_runs_many_at_once() -> None:
    arrived = threading.Barrier(8, timeout=5)

    def wait(i: int) -> int:
        arrived.wait()  # all eight must run at the same time to get past this
        return i

    async def many() -> list[int]:
        return list(await asyncio.gather(*[lanes.blocking(wait, i) for i in range(8)]))

    assert asyncio.run(many()) == list(range(8))
