"""A login callback's token exchange against an identity provider on loopback, made the way
mozilla-django-oidc makes it: a form POST to OIDC_OP_TOKEN_ENDPOINT with OIDC_TIMEOUT."""

import http.server
import json
import os
import threading
import urllib.parse
import urllib.request


class TokenEndpoint(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        form = urllib.parse.parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        body = json.dumps({"access_token": f"token-for-{form['client_id'][0]}"}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return None


def check() -> None:
    server = http.server.HTTPServer(("127.0.0.1", 0), TokenEndpoint)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        os.environ["ENABLE_OIDC"] = "1"
        os.environ["OIDC_OP_TOKEN_ENDPOINT"] = f"http://127.0.0.1:{server.server_port}/token"
        import settings

        timeout = getattr(settings, "OIDC_TIMEOUT", None)
        assert timeout is None or 0 < timeout <= 60
        form = urllib.parse.urlencode({"client_id": settings.OIDC_RP_CLIENT_ID, "code": "c"})
        request = urllib.request.Request(settings.OIDC_OP_TOKEN_ENDPOINT, data=form.encode())
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            assert json.load(response) == {"access_token": "token-for-staff"}
        assert settings.AUTHENTICATION_BACKENDS[-1].startswith("mozilla_django_oidc")
    finally:
        server.shutdown()


if __name__ == "__main__":
    check()
