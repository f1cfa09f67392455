"""The feed is fetched from a real HTTP server on loopback and converted by a real child."""

import http.server
import json
import threading

import feed


class Feed(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps([{"title": "one"}, {"title": "two"}]).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return None


def check() -> None:
    server = http.server.HTTPServer(("127.0.0.1", 0), Feed)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/feed"
        assert feed.titles(url) == ["ONE", "TWO"]
    finally:
        server.shutdown()


if __name__ == "__main__":
    check()
