"""A loopback TCP proxy in front of a real server: a fault stub for outage tests.

It passes bytes through until told otherwise: `cut` closes every open connection and refuses the
next few new ones (accepted, then closed unanswered); `frozen` holds every byte, as a server
stuck in a long pause would, while connections stay open.
"""

from __future__ import annotations

import socket
import threading
import time

HOLD_POLL_S = 0.1


class FaultProxy:
    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.frozen = threading.Event()
        self.to_drop = 0
        self.dropped = 0
        self.open: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def cut(self, refuse_next: int) -> None:
        self.to_drop = refuse_next
        for connection in self.open:
            connection.close()
        self.open.clear()

    def close(self) -> None:
        self.frozen.clear()
        self.cut(0)
        self.listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            if self.to_drop > 0:
                self.to_drop -= 1
                self.dropped += 1
                client.close()
                continue
            upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=10)
            self.open += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                while self.frozen.is_set():  # held, never sent while frozen
                    time.sleep(HOLD_POLL_S)
                sink.sendall(data)
        except OSError:
            pass
        finally:
            sink.close()
