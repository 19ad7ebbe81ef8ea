#!/usr/bin/env python3
"""A webhook receiver for the tests: verifies every request with the `standardwebhooks` package
(the Standard Webhooks reference implementation, from PyPI) and appends one JSON line per request
to OUT: the path, the message id, type and ledger sequence number when the signature verifies, or
{"bad": reason} when it does not (answered 400).

    python3 tests/webhooks/receiver.py PORT SECRET OUT
"""

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook

PORT, SECRET, OUT = int(sys.argv[1]), sys.argv[2], sys.argv[3]
HOOK = Webhook(SECRET)


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            event = HOOK.verify(body, headers)
            data = event["data"]
            line = {"path": self.path, "id": headers["webhook-id"], "type": event["type"], "seq": data["seq"],
                    "subject_id": data.get("subject_id"), "email": data.get("email"),
                    "import_id": data.get("import_id"), "totals": data.get("totals")}
            status = 204
        except Exception as e:  # noqa: BLE001 - any failure is a bad delivery
            line, status = {"path": self.path, "bad": str(e)}, 400
        with open(OUT, "a", encoding="utf-8") as out:
            out.write(json.dumps(line) + "\n")
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
