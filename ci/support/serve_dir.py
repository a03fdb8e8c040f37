#!/usr/bin/env python3
"""Serve a directory over HTTP on loopback, for the installer's tests (install.sh downloads).

  serve_dir.py DIR [--latest TAG]
                       serve DIR on 127.0.0.1 at a free port; prints "ready PORT" once listening,
                       one line per request on stderr, and exits when its parent process does
                       (so a crashed test never leaves a server behind)

Only GET and HEAD of files under DIR; anything else is 404/501 as http.server answers. With
--latest TAG it also answers like GitHub's "latest release" link: PREFIX/releases/latest
redirects (302) to PREFIX/releases/tag/TAG, which answers 200.
"""
import functools
import http.server
import os
import sys
import threading
import time


class Handler(http.server.SimpleHTTPRequestHandler):
    latest = None

    def log_message(self, format, *args):
        sys.stderr.write("serve_dir: " + (format % args) + "\n")

    def github_latest(self):
        path = self.path.split("?", 1)[0]
        if self.latest and path.endswith("/releases/latest"):
            self.send_response(302)
            self.send_header("Location", path[: -len("latest")] + "tag/" + self.latest)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return True
        if self.latest and path.endswith("/releases/tag/" + self.latest):
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return True
        return False

    def do_GET(self):
        if not self.github_latest():
            super().do_GET()

    def do_HEAD(self):
        if not self.github_latest():
            super().do_HEAD()


def main():
    arguments = sys.argv[1:]
    if len(arguments) == 3 and arguments[1] == "--latest":
        Handler.latest = arguments[2]
        arguments = arguments[:1]
    if len(arguments) != 1 or not os.path.isdir(arguments[0]):
        sys.stderr.write("usage: serve_dir.py DIR [--latest TAG]\n")
        return 64
    parent = os.getppid()
    handler = functools.partial(Handler, directory=arguments[0])
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print("ready", server.server_address[1], flush=True)
    try:
        while os.getppid() == parent:
            time.sleep(0.3)
    finally:
        server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
