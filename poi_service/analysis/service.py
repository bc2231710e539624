"""A real poi-service API on a free loopback port, in a background thread (notebooks, demos)."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType

import uvicorn

from poi_service.config import Settings
from poi_service.store import Store

START_TIMEOUT_S = 20.0


class LocalService:
    """Serves create_app(settings, store) with uvicorn on 127.0.0.1; start() returns the base URL."""

    def __init__(self, store: Store, settings: Settings | None = None) -> None:
        self.store = store
        self.settings = settings or Settings(database_url=store.url)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None
        self.url = ""

    def start(self) -> str:
        """Starts the server and waits until it accepts requests; returns 'http://127.0.0.1:PORT'."""
        from poi_service.api.app import create_app

        if self._server is not None:
            return self.url
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        config = uvicorn.Config(create_app(self.settings, self.store), log_level="warning", lifespan="on")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                server.should_exit = True
                sock.close()
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        self._server, self._thread, self._sock = server, thread, sock
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        return self.url

    def stop(self) -> None:
        """Stops the server and frees the port (the store stays open: the caller owns it)."""
        if self._server is None:
            return
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._sock is not None:
            self._sock.close()
        self._server = self._thread = self._sock = None

    def __enter__(self) -> LocalService:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
