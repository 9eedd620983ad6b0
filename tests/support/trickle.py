"""A TCP relay in front of a camera whose link starts to trickle: after a while, the camera's bytes come one a
second (a failing radio link), enough to keep every socket read within its timeout."""

from __future__ import annotations

import socket
import threading
import time
from typing import Self

from tests.support.rtsp import HOST, free_port


class TricklingLink:
    """rtsp://127.0.0.1:`port`/... reaches the camera at `target_port`; the first `trickled` connections trickle
    from `after_seconds` on, later ones flow."""

    def __init__(self, target_port: int, after_seconds: float, trickled: int = 1) -> None:
        self.port = free_port()
        self._target = target_port
        self._after = after_seconds
        self._trickled = trickled
        self._closed = threading.Event()
        self.connections = 0
        self._listener = socket.create_server((HOST, self.port))
        self._sockets: list[socket.socket] = [self._listener]
        threading.Thread(target=self._accept, name="trickle-accept", daemon=True).start()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._closed.set()
        for sock in self._sockets:
            sock.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            camera = socket.create_connection((HOST, self._target))
            self._sockets += [client, camera]
            self.connections += 1
            trickle_from = time.monotonic() + self._after if self.connections <= self._trickled else None
            threading.Thread(target=self._pump, args=(client, camera, None), daemon=True).start()
            threading.Thread(target=self._pump, args=(camera, client, trickle_from), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, trickle_from: float | None) -> None:
        try:
            while data := source.recv(65536):
                if trickle_from is None or time.monotonic() < trickle_from:
                    sink.sendall(data)
                    continue
                for byte in data:
                    sink.sendall(bytes([byte]))
                    if self._closed.wait(1.0):
                        return
        except OSError:
            return
