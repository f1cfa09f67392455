"""The report is sent after STARTTLS and the replies are counted, through stand-ins for the mail
servers (a check cannot reach one): the same hosts, ports, login and calls as before."""

import imaplib
import smtplib
import ssl

CALLS: list[tuple[str, object]] = []


class FakeSMTP:
    def __init__(self, host: str, port: int, timeout: float) -> None:
        CALLS.append(("smtp", (host, port)))

    def __enter__(self) -> "FakeSMTP":
        return self

    def __exit__(self, *exc: object) -> None:
        CALLS.append(("quit", None))

    def starttls(self, context: ssl.SSLContext | None = None) -> None:
        CALLS.append(("starttls", context is None or context.verify_mode == ssl.CERT_REQUIRED))

    def login(self, user: str, password: str) -> None:
        CALLS.append(("login", user))

    def sendmail(self, sender: str, to: list[str], body: str) -> None:
        CALLS.append(("sendmail", body))


class FakeIMAP:
    def __init__(self, host: str, port: int, ssl_context: ssl.SSLContext | None = None,
                 timeout: float | None = None) -> None:
        verifying = ssl_context is None or ssl_context.verify_mode == ssl.CERT_REQUIRED
        CALLS.append(("imap", (host, port, verifying)))

    def login(self, user: str, password: str) -> None:
        CALLS.append(("login", user))

    def search(self, charset: None, criterion: str) -> tuple[str, list[bytes]]:
        return "OK", [b"1", b"2"]


def check() -> None:
    smtplib.SMTP, imaplib.IMAP4_SSL = FakeSMTP, FakeIMAP  # type: ignore[misc, assignment]
    import mailer

    mailer.send_report("mail.example.com", "42 orders")
    assert mailer.unread_replies("mail.example.com") == 2
    assert CALLS == [
        ("smtp", ("mail.example.com", 587)),
        ("starttls", True),
        ("login", "reports@example.com"),
        ("sendmail", "42 orders"),
        ("quit", None),
        ("imap", ("mail.example.com", 993, True)),
        ("login", "reports@example.com"),
    ]


if __name__ == "__main__":
    check()
