#!/usr/bin/env python3
"""A test-only misbehaving AWS endpoint on loopback.

  hostile_server.py echo                 answer every request 403 SignatureDoesNotMatch, echoing
                                         the whole request (as real S3 answers carry the canonical
                                         request): method, path, every header (Authorization and
                                         X-Amz-Security-Token included) and the signature
  hostile_server.py redirect STATUS      answer every request STATUS (301/302/307) with Location
                                         pointing at a second listener, which records what reaches it

Prints "ready PORT [OTHER_PORT]" on stdout; the second port is the redirect target. The redirect
target writes one JSON line per request it receives to stdout ("seen {...}"), so a test can see
whether credentials were forwarded. Exits when its parent process goes away. Loopback only.
"""
import http.server
import json
import re
import sys
import threading
import time

from loopback import follow_parent


class Echo(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        canonical = "\n".join([self.command, self.path] + ["%s:%s" % (k.lower(), v) for k, v in self.headers.items()])
        auth = self.headers.get("Authorization", "")
        signature = (re.search(r"Signature=([0-9a-f]+)", auth) or [None, ""])[1]
        body = ("<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match "
                "the signature you provided. Authorization: %s</Message><SignatureProvided>%s</SignatureProvided>"
                "<CanonicalRequest>%s</CanonicalRequest></Error>" % (auth, signature, canonical)).encode()
        self.send_response(403)
        self.send_header("Content-Type", "application/xml")
        self.send_header("x-amzn-ErrorType", "SignatureDoesNotMatch")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any


def redirecting(status, target):
    class Redirect(Echo):
        def handle_any(self):
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            self.send_response(status)
            self.send_header("Location", "http://127.0.0.1:%d%s" % (target, self.path))
            self.send_header("x-amz-bucket-region", "eu-west-1")
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any
    return Redirect


class Recorder(Echo):
    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        print("seen " + json.dumps({"method": self.command, "path": self.path, "headers": dict(self.headers.items())}), flush=True)
        body = b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any


def serve(handler):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.server_address[1]


def main():
    follow_parent()
    if len(sys.argv) < 2 or sys.argv[1] not in ("echo", "redirect"):
        sys.exit("usage: hostile_server.py echo | redirect STATUS")
    if sys.argv[1] == "echo":
        print("ready %d" % serve(Echo), flush=True)
    else:
        target = serve(Recorder)
        print("ready %d %d" % (serve(redirecting(int(sys.argv[2]), target)), target), flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
