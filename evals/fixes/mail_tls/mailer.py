"""Sends the daily report and reads replies, over TLS, with the service account."""

import imaplib
import smtplib

ACCOUNT = ("reports@example.com", "app-password")


def send_report(host: str, body: str) -> None:
    with smtplib.SMTP(host, 587, timeout=10) as smtp:
        smtp.starttls()
        smtp.login(*ACCOUNT)
        smtp.sendmail(ACCOUNT[0], [ACCOUNT[0]], body)


def unread_replies(host: str) -> int:
    mailbox = imaplib.IMAP4_SSL(host, 993, timeout=10)
    mailbox.login(*ACCOUNT)
    return len(mailbox.search(None, "UNSEEN")[1])
