"""Talks to a line-based echo service, and runs a checksum tool."""

import socket
import subprocess
import sys


def echo(host: str, port: int, text: str) -> str:
    with socket.create_connection((host, port)) as conn:
        conn.sendall(text.encode() + b"\n")
        return conn.makefile().readline().strip()


def checksum(data: bytes) -> str:
    code = "import hashlib, sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())"
    return subprocess.check_output([sys.executable, "-c", code], input=data).decode().strip()
