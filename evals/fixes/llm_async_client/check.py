"""The shared client targets the local server; a question follows its history."""

from assistant import chat_messages, client


def check() -> None:
    assert str(client.base_url).rstrip("/") == "http://127.0.0.1:8080/v1"
    messages = chat_messages([("user", "hi"), ("assistant", "hello")], "what is p99?")
    assert messages[-1] == {"role": "user", "content": "what is p99?"}
    assert len(messages) == 3


if __name__ == "__main__":
    check()
