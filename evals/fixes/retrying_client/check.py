"""A provider that fails once or twice still answers."""

import client


def check() -> None:
    assert client.ping([True, False]) == "pong"
    assert client.ping([False]) == "pong"
    answers = iter([ConnectionError("down"), 1.08])

    def fetch() -> float:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert client.rate(fetch) == 1.08


if __name__ == "__main__":
    check()
