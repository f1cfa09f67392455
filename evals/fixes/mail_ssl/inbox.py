"""Collects bounces over POP3 and forwards a summary over SMTP, both on implicit TLS."""

import poplib
import smtplib

ACCOUNT = ("bounces@example.com", "app-password")


def count_bounces(host: str) -> int:
    mailbox = poplib.POP3_SSL(host, 995, timeout=10)
    mailbox.user(ACCOUNT[0])
    mailbox.pass_(ACCOUNT[1])
    count, _size = mailbox.stat()
    mailbox.quit()
    return count


def forward_summary(host: str, text: str) -> None:
    with smtplib.SMTP_SSL(host, 465, timeout=10) as smtp:
        smtp.login(*ACCOUNT)
        smtp.sendmail(ACCOUNT[0], ["ops@example.com"], text)
