"""A message goes through a real SMTP conversation with a server on loopback, opened the way
Django's SMTP backend opens it (host, port and EMAIL_TIMEOUT from the settings)."""

import os
import smtplib
import socketserver
import threading

RECEIVED: list[bytes] = []


class _SMTPHandler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        self.wfile.write(b"220 loopback ESMTP\r\n")
        while line := self.rfile.readline():
            verb = line[:4].upper()
            if verb == b"DATA":
                self.wfile.write(b"354 go ahead\r\n")
                RECEIVED.append(b"".join(iter(self.rfile.readline, b".\r\n")))
                self.wfile.write(b"250 queued\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


def check() -> None:
    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SMTPHandler) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        os.environ["EMAIL_PORT"] = str(server.server_address[1])
        import settings

        timeout = getattr(settings, "EMAIL_TIMEOUT", None)
        assert timeout is None or 0 < timeout <= 60
        with smtplib.SMTP(settings.EMAIL_HOST, settings.EMAIL_PORT, timeout=timeout) as smtp:
            smtp.sendmail("app@example.org", ["user@example.org"], "Subject: hi\r\n\r\nhello")
        server.shutdown()
    assert len(RECEIVED) == 1 and b"hello" in RECEIVED[0]


if __name__ == "__main__":
    check()
