"""What the loopback test servers and proxies share (ci/support/*_proxy.py, the emulator, the
hostile server): loopback names, following the parent process, copying a stream, and checking
the upstream URL they are given."""

import os
import socket
import sys
import threading
import time
import urllib.parse

LOOPBACK_NAMES = {"127.0.0.1", "localhost", "::1"}


def watch_parent(parent=None):
    """Exits the process as soon as its parent (the test process) is gone."""
    parent = os.getppid() if parent is None else parent
    while os.getppid() == parent:
        time.sleep(0.3)
    os._exit(0)


def follow_parent():
    """Starts `watch_parent` for the current parent on a daemon thread."""
    threading.Thread(target=watch_parent, args=(os.getppid(),), daemon=True).start()


def pump(source, target):
    """Copies bytes one way until either side closes, then closes both."""
    try:
        while True:
            data = source.recv(1 << 16)
            if not data:
                break
            target.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, target):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def loopback_upstream(text, tool):
    """The http:// loopback URL `text`, or None after saying why on stderr."""
    upstream = urllib.parse.urlsplit(text)
    if upstream.scheme != "http" or upstream.hostname not in LOOPBACK_NAMES:
        print(f"{tool}: the upstream must be an http:// loopback URL", file=sys.stderr)
        return None
    return upstream
