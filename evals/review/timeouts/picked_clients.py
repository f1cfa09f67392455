"""Mail clients whose class is picked first and called later: the call names no class, yet it
connects with no timeout all the same (and, made as SMTP_SSL with no context, checks no
certificate)."""

import smtplib
import ssl


class Mailer:
    def __init__(self, host: str, port: int, use_ssl: bool) -> None:
        self.host, self.port, self.use_ssl = host, port, use_ssl

    @property
    def smtp(self) -> type[smtplib.SMTP]:
        return smtplib.SMTP_SSL if self.use_ssl else smtplib.SMTP

    def send(self, sender: str, to: str, body: str) -> None:
        options = {}
        if self.use_ssl:
            options.update({"context": ssl.create_default_context()})
        with self.smtp(self.host, self.port, **options) as server:  # expect: timeouts
            server.sendmail(sender, to, body)

    def send_bounded(self, sender: str, to: str, body: str) -> None:
        with self.smtp(self.host, self.port, timeout=10) as server:  # expect: crypto
            server.sendmail(sender, to, body)


def notify(host: str, port: int, use_ssl: bool, to: str, body: str) -> None:
    client = smtplib.SMTP_SSL if use_ssl else smtplib.SMTP
    server = client(host, port)  # expect: timeouts, crypto
    server.sendmail("noreply@example.com", to, body)
    server.quit()


def import_reports(host: str, use_ssl: bool) -> None:
    # run by hand: it asks for the password at the terminal, where someone can interrupt it
    client = smtplib.SMTP_SSL if use_ssl else smtplib.SMTP
    server = client(host)  # expect: crypto
    server.login(input("Username: "), input("Password: "))
    server.quit()
