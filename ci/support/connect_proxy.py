#!/usr/bin/env python3
"""A test-only HTTP CONNECT proxy on loopback, logging every tunnel it opens.

  connect_proxy.py --log FILE

Listens on 127.0.0.1 on a free port, prints "ready PORT" on stdout, and answers
"CONNECT host:port HTTP/1.1" by opening a TCP connection to that loopback address and relaying
bytes both ways (the TLS inside the tunnel stays end to end). Each CONNECT is appended to FILE
as a JSON line {"connect": "host:port", "authorization": true|false} (whether a
Proxy-Authorization header came; its value is never logged). Any other request gets 405.
Only loopback targets are allowed. Exits when its parent process goes away.
"""
import json
import socket
import sys
import threading

from loopback import LOOPBACK_NAMES as LOOPBACK, follow_parent, pump
lock = threading.Lock()




def read_head(client):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = client.recv(4096)
        if not chunk or len(data) > 65536:
            return None, b""
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head.decode("latin-1"), rest


def serve(client, log_file):
    head, rest = read_head(client)
    if head is None:
        client.close()
        return
    lines = head.split("\r\n")
    parts = lines[0].split(" ")
    headers = {line.split(":", 1)[0].strip().lower() for line in lines[1:] if ":" in line}
    if len(parts) != 3 or parts[0] != "CONNECT":
        client.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        client.close()
        return
    host, _, port = parts[1].rpartition(":")
    host = host.strip("[]")
    with lock:
        with open(log_file, "a") as handle:
            handle.write(json.dumps({"connect": parts[1], "authorization": "proxy-authorization" in headers}) + "\n")
    if host not in LOOPBACK or not port.isdigit():
        client.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        client.close()
        return
    try:
        upstream = socket.create_connection((host, int(port)), timeout=30)
        upstream.settimeout(None)
    except OSError:
        client.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        client.close()
        return
    client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
    if rest:
        upstream.sendall(rest)
    threading.Thread(target=pump, args=(client, upstream), daemon=True).start()
    pump(upstream, client)




def main(argv):
    if len(argv) != 2 or argv[0] != "--log":
        print(__doc__, file=sys.stderr)
        return 2
    log_file = argv[1]
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    follow_parent()
    print("ready %d" % listener.getsockname()[1], flush=True)
    while True:
        client, _ = listener.accept()
        threading.Thread(target=serve, args=(client, log_file), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
