"""websocket-client connections: with no timeout, connect, send and recv wait forever on a peer
that stops answering; websocket-client's default is its own, not the socket module's."""

import json

from websocket import create_connection

EVENT_DAEMON = "ws://events.internal:15100/"


def post_event(channel: str, message: dict) -> None:
    connection = create_connection(EVENT_DAEMON)  # expect: timeouts
    connection.send(json.dumps({"channel": channel, "message": message}))
    connection.close()


def wallet_balance(endpoint: str) -> int:
    connection = create_connection(endpoint, timeout=5)
    connection.send("get-info")
    return int(json.loads(connection.recv())["balance"])
