#!/usr/bin/env python3
"""A test-only TLS-terminating proxy on loopback: HTTPS in front of a plain-http upstream (moto).

  tls_proxy.py UPSTREAM --cert CERT.pem --key KEY.pem

Listens on 127.0.0.1 on a free port with the given certificate, prints "ready PORT" on stdout,
and relays every connection's decrypted bytes to UPSTREAM (an http:// loopback URL) and back,
unchanged: HTTP keep-alive, bodies and the Host header pass through as sent (SigV4 signatures
made for the proxy's address still verify at moto). ALPN offers http/1.1 only. Exits when its
parent process goes away, so a crashed test run never leaves it behind.

This is the TLS-inspecting gateway or private-CA endpoint a user meets: a client that does not
trust CERT's issuer must refuse it; with the issuer in AWS_CA_BUNDLE it must work.
"""
import socket
import ssl
import sys
import threading

from loopback import follow_parent, loopback_upstream, pump




def serve(client, context, upstream):
    try:
        secure = context.wrap_socket(client, server_side=True)
    except (ssl.SSLError, OSError):
        # A client that refuses the certificate ends the handshake: that is the point.
        client.close()
        return
    try:
        plain = socket.create_connection(upstream, timeout=30)
        plain.settimeout(None)
    except OSError:
        secure.close()
        return
    threading.Thread(target=pump, args=(secure, plain), daemon=True).start()
    pump(plain, secure)




def main(argv):
    args = list(argv)
    if not args or args[0] in ("-h", "--help"):
        print(__doc__, file=sys.stderr)
        return 2
    upstream = loopback_upstream(args.pop(0), "tls_proxy")
    if upstream is None:
        return 2
    cert = key = None
    while args:
        flag = args.pop(0)
        if flag == "--cert" and args:
            cert = args.pop(0)
        elif flag == "--key" and args:
            key = args.pop(0)
        else:
            print("tls_proxy: unknown argument %r" % flag, file=sys.stderr)
            return 2
    if not cert or not key:
        print("tls_proxy: --cert and --key are required", file=sys.stderr)
        return 2
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.set_alpn_protocols(["http/1.1"])
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    follow_parent()
    print("ready %d" % listener.getsockname()[1], flush=True)
    target = (upstream.hostname, upstream.port or 80)
    while True:
        client, _ = listener.accept()
        threading.Thread(target=serve, args=(client, context, target), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
