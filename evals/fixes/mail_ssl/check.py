"""Bounces are counted and the summary sent, through stand-ins for the mail servers (a check
cannot reach one): the same hosts, ports, login and calls as before, over verifying TLS."""

import poplib
import smtplib
import ssl

CALLS: list[tuple[str, object]] = []


def _verifying(context: ssl.SSLContext | None) -> bool:
    return context is None or context.verify_mode == ssl.CERT_REQUIRED


class FakePOP3:
    def __init__(self, host: str, port: int, timeout: float,
                 context: ssl.SSLContext | None = None) -> None:
        CALLS.append(("pop3", (host, port, _verifying(context))))

    def user(self, name: str) -> None:
        CALLS.append(("user", name))

    def pass_(self, password: str) -> None:
        CALLS.append(("pass", len(password)))

    def stat(self) -> tuple[int, int]:
        return 3, 1200

    def quit(self) -> None:
        CALLS.append(("quit", None))


class FakeSMTP:
    def __init__(self, host: str, port: int, timeout: float,
                 context: ssl.SSLContext | None = None) -> None:
        CALLS.append(("smtp", (host, port, _verifying(context))))

    def __enter__(self) -> "FakeSMTP":
        return self

    def __exit__(self, *exc: object) -> None:
        CALLS.append(("quit", None))

    def login(self, user: str, password: str) -> None:
        CALLS.append(("login", user))

    def sendmail(self, sender: str, to: list[str], body: str) -> None:
        CALLS.append(("sendmail", body))


def check() -> None:
    poplib.POP3_SSL, smtplib.SMTP_SSL = FakePOP3, FakeSMTP  # type: ignore[misc, assignment]
    import inbox

    assert inbox.count_bounces("mail.example.com") == 3
    inbox.forward_summary("mail.example.com", "3 bounces")
    assert CALLS == [
        ("pop3", ("mail.example.com", 995, True)),
        ("user", "bounces@example.com"),
        ("pass", 12),
        ("quit", None),
        ("smtp", ("mail.example.com", 465, True)),
        ("login", "bounces@example.com"),
        ("sendmail", "3 bounces"),
        ("quit", None),
    ]


if __name__ == "__main__":
    check()
