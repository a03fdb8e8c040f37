#!/usr/bin/env python3
"""A test-only HTTP proxy on loopback that injects faults between lambda-deploy and moto.

  fault_proxy.py UPSTREAM [--rules FILE] [--log FILE] [--log-signatures]

Listens on 127.0.0.1 on a free port, prints "ready PORT" on stdout, forwards every request to
UPSTREAM (a loopback http:// URL: moto) and exits when its parent process goes away (so a crashed
test run never leaves a proxy behind). The Host header is forwarded unchanged, so SigV4
signatures made for the proxy's address still verify at moto when its auth checks are on.

Rules (a JSON list, or {"rules": [...]}) are tried in order; the first that matches a request
and still has uses left decides what happens to it:

  {"method": "PUT",                  regex on the method (default: any)
   "path": "/aliases/dev$",          regex searched in the path including the query (default: any)
   "times": 2,                       apply to the first 2 matching requests (default/null: always)
   "scope": "each",                  "each": count per distinct method+path, so "times": 1 hits
                                     every different call once (default "rule": one counter)
   "action": "status",               what to do:
       "status"   answer `status` (default 503) without forwarding; 429 carries
                  `Retry-After: retryAfter` (default 1), an AWS-style JSON body
                  {"__type": "TooManyRequestsException", "message": "Rate exceeded"} and
                  x-amzn-ErrorType; 5xx carry ServiceException, others AccessDeniedException
                  ("code" and "message" override)
       "reset"    read the request, then reset the connection (RST) without forwarding
       "cut"      read the request's head and part of its body (`cutAfter` bytes, default half),
                  then reset the connection: an upload broken off midway
       "drop"     forward, wait for moto's answer, then close the client's connection without
                  answering: the server acted, the client never heard
       "delay"    wait `delay` seconds (default 5), then forward and answer (past the client's
                  timeout the client has usually given up by then); logged as "delay" when it
                  arrives and as "delayed-answer" once forwarded
       "trickle"  forward, then send moto's status line and headers at once and its body one
                  byte every `interval` seconds (default 2): a slowloris answer that never stalls
   "status": 500, "retryAfter": 1, "delay": 3, "cutAfter": 1000, "interval": 2}

Control (never forwarded):
  GET    /__faults__        the rules, with how often each has applied
  POST   /__faults__        replace the rules (body: as the rules file)
  DELETE /__faults__        clear the rules
  GET    /__faults__/log    the requests seen: [{"n", "method", "path", "rule", "action", "status"}]
  DELETE /__faults__/log    clear the log

--log FILE also appends each log entry to FILE as a JSON line as it happens. --log-signatures adds
the SigV4 signature of each request to the log (so tests can check it never appears in the
tool's output); the log is test data in a temporary directory, never shared.

Every answer carries `Connection: close`, so each request arrives on a fresh connection and no
client can silently resend a request on a reused one.
"""
import http.client
import http.server
import json
import re
import socket
import struct
import sys
import threading
import time

from loopback import follow_parent, loopback_upstream
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "te", "trailer", "upgrade"}


class State:
    """Rules, counters and the log, shared by the handler threads."""

    def __init__(self, log_file=None, log_signatures=False):
        self.lock = threading.Lock()
        self.rules = []
        self.counts = []
        self.log = []
        self.log_file = log_file
        self.log_signatures = log_signatures

    def set_rules(self, document):
        rules = document.get("rules", []) if isinstance(document, dict) else document
        if not isinstance(rules, list):
            raise ValueError("rules must be a list")
        compiled = []
        for rule in rules:
            if not isinstance(rule, dict):
                raise ValueError("each rule must be an object")
            action = rule.get("action", "status")
            if action not in ("status", "reset", "drop", "delay", "cut", "trickle"):
                raise ValueError("unknown action %r" % action)
            compiled.append(dict(rule, _method=re.compile(rule.get("method", ".*"), re.I), _path=re.compile(rule.get("path", ".*"))))
        with self.lock:
            self.rules = compiled
            self.counts = [{} for _ in compiled]

    def public_rules(self):
        with self.lock:
            return [
                dict({k: v for k, v in rule.items() if not k.startswith("_")}, applied=sum(counts.values()))
                for rule, counts in zip(self.rules, self.counts)
            ]

    def decide(self, method, path):
        """The index and rule that apply to this request (using one of its uses), or (None, None)."""
        with self.lock:
            for index, rule in enumerate(self.rules):
                if not (rule["_method"].fullmatch(method) and rule["_path"].search(path)):
                    continue
                key = method + " " + path if rule.get("scope") == "each" else ""
                counts = self.counts[index]
                times = rule.get("times")
                if times is not None and counts.get(key, 0) >= times:
                    continue
                counts[key] = counts.get(key, 0) + 1
                return index, rule
        return None, None

    def record(self, entry):
        with self.lock:
            entry["n"] = len(self.log) + 1
            self.log.append(entry)
            if self.log_file:
                with open(self.log_file, "a") as handle:
                    handle.write(json.dumps(entry, sort_keys=True) + "\n")


def signature_of(headers):
    match = re.search(r"Signature=([0-9a-f]+)", headers.get("Authorization", ""))
    return match.group(1) if match else None


def make_handler(state, upstream):
    host, port = upstream

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # quiet: the log is the JSON one
            pass

        def read_body(self, limit=None):
            if limit is not None:
                return self.rfile.read(limit)
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass
                        return b"".join(chunks)
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def answer(self, status, headers, body):
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            self.close_connection = True

        def answer_json(self, status, document):
            self.answer(status, [("Content-Type", "application/json")], json.dumps(document, indent=1).encode())

        def reset(self):
            # SO_LINGER with a zero timeout turns close() into a TCP RST.
            try:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
            except OSError:
                pass
            self.close_connection = True

        def forward(self, body):
            connection = http.client.HTTPConnection(host, port, timeout=120)
            try:
                connection.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
                for name, value in self.headers.items():
                    if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                        connection.putheader(name, value)
                if body or self.command in ("POST", "PUT", "PATCH"):
                    connection.putheader("Content-Length", str(len(body)))
                connection.endheaders(body)
                response = connection.getresponse()
                data = response.read()
                headers = [(k, v) for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP and k.lower() != "content-length"]
                return response.status, headers, data
            finally:
                connection.close()

        def control(self, body):
            if self.path.startswith("/__faults__/log"):
                if self.command == "DELETE":
                    with state.lock:
                        state.log.clear()
                    return self.answer_json(200, {"cleared": True})
                with state.lock:
                    return self.answer_json(200, list(state.log))
            if self.command == "POST":
                try:
                    state.set_rules(json.loads(body or b"[]"))
                except (ValueError, re.error) as error:
                    return self.answer_json(400, {"error": str(error)})
            elif self.command == "DELETE":
                state.set_rules([])
            return self.answer_json(200, state.public_rules())

        def trickle(self, status, headers, data, interval):
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.flush()
            try:
                for byte in data:
                    time.sleep(interval)
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
            except OSError:  # the client gave up, as it should
                pass
            self.close_connection = True

        def handle_any(self):
            path = self.path
            index, rule = (None, None) if path.startswith("/__faults__") else state.decide(self.command, path)
            action = rule.get("action", "status") if rule else "forward"
            if action == "cut":
                length = int(self.headers.get("Content-Length") or 0)
                self.read_body(int(rule.get("cutAfter", length // 2)))
                state.record({"method": self.command, "path": path, "rule": index, "action": action})
                return self.reset()
            body = self.read_body()
            if path.startswith("/__faults__"):
                return self.control(body)
            entry = {"method": self.command, "path": path, "rule": index, "action": action}
            if state.log_signatures:
                entry["signature"] = signature_of(self.headers)
            if action == "status":
                status = int(rule.get("status", 503))
                if status == 429:
                    code, message = "TooManyRequestsException", "Rate exceeded"
                    headers = [("Retry-After", str(rule.get("retryAfter", 1)))]
                else:
                    code, message = "ServiceException" if status >= 500 else "AccessDeniedException", "injected by fault_proxy"
                    headers = []
                code, message = rule.get("code", code), rule.get("message", message)
                headers += [("Content-Type", "application/json"), ("x-amzn-ErrorType", code)]
                entry["status"] = status
                state.record(entry)
                return self.answer(status, headers, json.dumps({"__type": code, "message": message}).encode())
            if action == "reset":
                state.record(entry)
                return self.reset()
            if action == "delay":
                # Logged now: the client has usually given up (and the test moved on) before the
                # delayed answer exists.
                state.record(dict(entry))
                time.sleep(float(rule.get("delay", 5)))
                entry["action"] = "delayed-answer"
            try:
                status, headers, data = self.forward(body)
            except OSError as error:
                entry.update(action="upstream-error", error=str(error))
                state.record(entry)
                return self.answer_json(502, {"__type": "ServiceException", "message": "fault_proxy: upstream unreachable"})
            entry["status"] = status
            state.record(entry)
            if action == "drop":
                return self.reset()
            if action == "trickle":
                return self.trickle(status, headers, data, float(rule.get("interval", 2)))
            try:
                self.answer(status, headers, data)
            except OSError:  # the client gave up (a delay past its timeout)
                self.close_connection = True

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = handle_any

    return Handler




def main(argv):
    args = list(argv)
    if not args or args[0] in ("-h", "--help"):
        print(__doc__, file=sys.stderr)
        return 2
    upstream = loopback_upstream(args.pop(0), "fault_proxy")
    if upstream is None:
        return 2
    rules_file = log_file = None
    log_signatures = False
    while args:
        flag = args.pop(0)
        if flag == "--rules" and args:
            rules_file = args.pop(0)
        elif flag == "--log" and args:
            log_file = args.pop(0)
        elif flag == "--log-signatures":
            log_signatures = True
        else:
            print("fault_proxy: unknown argument %r" % flag, file=sys.stderr)
            return 2
    state = State(log_file, log_signatures)
    if rules_file:
        with open(rules_file) as handle:
            state.set_rules(json.load(handle))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), make_handler(state, (upstream.hostname, upstream.port or 80)))
    server.daemon_threads = True
    follow_parent()
    print("ready %d" % server.server_address[1], flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
