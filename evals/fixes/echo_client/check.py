"""A real echo server on loopback answers, and the checksum child computes the same digest."""

import hashlib
import socketserver
import threading

import echo


class Echo(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        self.wfile.write(self.rfile.readline())


def check() -> None:
    with socketserver.TCPServer(("127.0.0.1", 0), Echo) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            assert echo.echo("127.0.0.1", server.server_address[1], "ping") == "ping"
        finally:
            server.shutdown()
    assert echo.checksum(b"abc") == hashlib.sha256(b"abc").hexdigest()


if __name__ == "__main__":
    check()
