"""Mail clients that encrypt without checking whom they talk to: the standard library's TLS mail
and FTP clients accept any certificate unless given a context, and the login follows."""

import imaplib
import poplib
import smtplib
import ssl
from smtplib import SMTP_SSL

VERIFYING = ssl.create_default_context()


def send_report(host: str, user: str, password: str, body: str) -> None:
    with smtplib.SMTP(host, 587, timeout=10) as smtp:
        smtp.starttls()  # expect: crypto
        smtp.login(user, password)
        smtp.sendmail(user, [user], body)


def check_mailbox(host: str, user: str, password: str) -> int:
    mailbox = imaplib.IMAP4_SSL(host, 993, timeout=10)  # expect: crypto
    mailbox.login(user, password)
    return len(mailbox.list()[1])


def relay(host: str, user: str, password: str) -> None:
    with SMTP_SSL(host, 465, timeout=10) as smtp:  # expect: crypto
        smtp.login(user, password)


def send_verified(host: str, user: str, password: str) -> None:
    with smtplib.SMTP(host, 587, timeout=10) as smtp:
        smtp.starttls(context=VERIFYING)
        smtp.login(user, password)
    with smtplib.SMTP_SSL(host, 465, timeout=10, context=VERIFYING) as smtp:
        smtp.login(user, password)
    imaplib.IMAP4_SSL(host, 993, ssl_context=VERIFYING, timeout=10).login(user, password)


def notify(host: str, use_ssl: bool, user: str, password: str) -> None:
    client = smtplib.SMTP_SSL if use_ssl else smtplib.SMTP
    server = client(host, timeout=10)  # expect: crypto
    server.login(user, password)


def notify_verified(host: str, use_ssl: bool, user: str, password: str) -> None:
    client = smtplib.SMTP_SSL if use_ssl else smtplib.SMTP
    options = {"context": VERIFYING} if use_ssl else {}
    server = client(host, timeout=10, **options)
    server.login(user, password)


def fetch_pop3(host: str, user: str, password: str) -> int:
    mailbox = poplib.POP3(host, timeout=30)
    mailbox.stls()  # expect: crypto
    mailbox.user(user)
    mailbox.pass_(password)
    return len(mailbox.list()[1])


def fetch_pop3_verified(host: str, user: str, password: str) -> int:
    mailbox = poplib.POP3(host, timeout=30)
    mailbox.stls(context=VERIFYING)
    mailbox.user(user)
    mailbox.pass_(password)
    return len(mailbox.list()[1])
