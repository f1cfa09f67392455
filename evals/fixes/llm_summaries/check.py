"""The client points at the server it is given with one retry, and the request is well formed."""

from summaries import summary_client, summary_request


def check() -> None:
    client = summary_client("http://127.0.0.1:8000/v1", "local-test-key")
    assert str(client.base_url).rstrip("/") == "http://127.0.0.1:8000/v1"
    assert client.max_retries == 1
    request = summary_request("Login fails with a 500 after the upgrade.")
    assert request["max_tokens"] == 80
    assert "Login fails" in str(request["messages"])


if __name__ == "__main__":
    check()
