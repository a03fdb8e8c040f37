#!/usr/bin/env python3
"""Serve a directory over HTTP on loopback, for the installer's tests (install.sh downloads).

  serve_dir.py DIR     serve DIR on 127.0.0.1 at a free port; prints "ready PORT" once listening,
                       one line per request on stderr, and exits when its parent process does
                       (so a crashed test never leaves a server behind)

Only GET and HEAD of files under DIR; anything else is 404/501 as http.server answers.
"""
import functools
import http.server
import os
import sys
import threading
import time


class Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        sys.stderr.write("serve_dir: " + (format % args) + "\n")


def main():
    if len(sys.argv) != 2 or not os.path.isdir(sys.argv[1]):
        sys.stderr.write("usage: serve_dir.py DIR\n")
        return 64
    parent = os.getppid()
    handler = functools.partial(Handler, directory=sys.argv[1])
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
