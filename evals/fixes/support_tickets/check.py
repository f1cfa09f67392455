"""Ticket and reply ids keep their printed format."""

import re

import tickets


def check() -> None:
    for _ in range(100):
        ticket = tickets.ticket_id()
        assert re.fullmatch(r"T-\d{8}", ticket)
        assert re.fullmatch(r"T-\d{8}/\d{6}", tickets.reply_id(ticket))


if __name__ == "__main__":
    check()
