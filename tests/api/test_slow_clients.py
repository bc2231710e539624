"""Slow clients over raw sockets against `poi-service serve`: headers sent a byte a second get the
connection closed after POI_HEADER_TIMEOUT_S, a body sent a byte a second gets 408 after
POI_BODY_TIMEOUT_S, and other clients are answered meanwhile."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from poi_service.store import open_store
from tests import process
from tests.conftest import DATA_DIR
from tests.factories import random_places


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[process.Server]:
    path: Path = tmp_path_factory.mktemp("slow") / "slow.gpkg"
    store = open_store(str(path), DATA_DIR)
    store.places.add_many(random_places(20))
    store.close()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("POI_HEADER_TIMEOUT_S", "2")
        mp.setenv("POI_BODY_TIMEOUT_S", "2")
        with process.serve(path, workers=1) as s:
            deadline = time.monotonic() + 20
            while True:  # a single worker logs its startup just before it listens
                try:
                    httpx.get(s.url + "/health", timeout=2)
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline
                    time.sleep(0.1)
            yield s


def connect(server: process.Server) -> socket.socket:
    parts = urlsplit(server.url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=10)
    return sock


def dribble(sock: socket.socket, data: bytes, seconds: float) -> float:
    """Sends data a byte every 0.25 s until the server closes; the seconds it kept the connection."""
    t0 = time.monotonic()
    try:
        for byte in data:
            sock.sendall(bytes([byte]))
            time.sleep(0.25)
            if time.monotonic() - t0 > seconds:
                break
    except (BrokenPipeError, ConnectionResetError):
        pass
    return time.monotonic() - t0


def read_all(sock: socket.socket) -> bytes:
    chunks = []
    try:
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    except (ConnectionResetError, TimeoutError):
        pass
    return b"".join(chunks)


def test_slow_headers_are_cut_off(server: process.Server) -> None:
    sock = connect(server)
    request = b"GET /health HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"a" * 200 + b"\r\n\r\n"
    kept = dribble(sock, request, seconds=12)
    assert kept < 6.0, kept  # closed after about 2 s, long before the headers were complete
    assert read_all(sock) == b""
    sock.close()
    assert httpx.get(server.url + "/health", timeout=2).status_code == 200


def test_slow_headers_after_a_first_request_are_cut_off(server: process.Server) -> None:
    sock = connect(server)
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    assert sock.recv(65536).startswith(b"HTTP/1.1 200")
    kept = dribble(sock, b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200, seconds=12)
    assert kept < 6.0, kept
    sock.close()


def test_slow_body_gets_408(server: process.Server) -> None:
    sock = connect(server)
    body = b'{"type": "Polygon", "coordinates": [[[9, 54], [10, 54], [10, 55], [9, 54]]]}'
    head = (
        b"POST /places/within HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
    )
    sock.sendall(head)
    t0 = time.monotonic()
    dribble(sock, body, seconds=8)
    answer = read_all(sock)
    assert time.monotonic() - t0 < 6.0
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b"application/problem+json" in answer and b"request-timeout" in answer
    sock.close()
