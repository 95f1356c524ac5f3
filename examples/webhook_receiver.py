#!/usr/bin/env python3
"""A techmarket webhook receiver: verifies each delivery's signature and prints the event.

Python 3 standard library only. Usage:

    TECHMARKET_WEBHOOK_SECRET=whsec_... python3 examples/webhook_receiver.py [port]

Register http://127.0.0.1:<port>/ (default port 9000) as a webhook on /admin/systems, paste the
secret shown once into TECHMARKET_WEBHOOK_SECRET, and every event that concerns your exchange is
printed here as one line of JSON, in order. Deliveries are at least once: an event may come again
(after a timeout, or a redelivery), so this receiver remembers the ids it has handled and
acknowledges a repeat without handling it twice. A real system would keep those ids in its own
database, in the same transaction as whatever it does with the event.

The signature (API.md "Exchange systems"): header
    Techmarket-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
Compute it over the raw bytes of the body, compare in constant time, and refuse old timestamps
(a replayed request).
"""
import hashlib
import hmac
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOLERANCE_SECONDS = 300


def verify(secret: str, header: str, body: bytes, now: float) -> bool:
    """True when `header` signs `body` with `secret` and is at most five minutes old."""
    parts = dict(p.strip().split("=", 1) for p in header.split(",") if "=" in p)
    try:
        t = int(parts.get("t", ""))
    except ValueError:
        return False
    if abs(now - t) > TOLERANCE_SECONDS:
        return False
    expected = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts.get("v1", ""))


class Receiver(BaseHTTPRequestHandler):
    secret = ""
    seen: set = set()

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        signature = self.headers.get("Techmarket-Signature", "")
        if not verify(self.secret, signature, body, time.time()):
            print(json.dumps({"signature": "INVALID", "bytes": len(body)}), flush=True)
            self.reply(400, b"bad signature")
            return
        event = json.loads(body)
        if event["id"] in self.seen:
            self.reply(200, b"already handled")
            return
        self.seen.add(event["id"])
        print(json.dumps({"signature": "valid", "id": event["id"], "type": event["type"],
                          "created_at": event["created_at"], "data": event["data"]},
                         ensure_ascii=False), flush=True)
        self.reply(200, b"ok")

    def reply(self, status: int, text: bytes):
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)

    def log_message(self, *args):
        pass  # one line per event on stdout is all this example prints


def main():
    secret = os.environ.get("TECHMARKET_WEBHOOK_SECRET", "")
    if not secret:
        sys.exit("set TECHMARKET_WEBHOOK_SECRET to the webhook's secret (shown once when it was made)")
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 9000
    Receiver.secret = secret
    server = ThreadingHTTPServer(("127.0.0.1", port), Receiver)
    print(f"listening on http://127.0.0.1:{port}/", file=sys.stderr, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
