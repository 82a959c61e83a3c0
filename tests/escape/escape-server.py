#!/usr/bin/env python3
"""One process, many HTTPS listeners: one fresh port per row of the matrix.

    escape-server.py --bind ADDR ID:CERT:KEY[:CHAIN] ...

CERT is the leaf, CHAIN (optional) a PEM file sent after it.  Prints
"listening ID PORT" for each ID, then "ready".  Logs, one line each:
"ID handshake-ok", "ID handshake-failed REASON", "ID GET /path", so the
log shows what each client decided, independent of what it reports.
The page's <h1> is the ID.  TLS 1.3 tickets are off: every connection
verifies the certificate again.  ADDR "::" listens on IPv4 and IPv6.
"""
import argparse
import html
import http.server
import socket
import ssl
import sys
import threading

lock = threading.Lock()


def log(line):
    with lock:
        print(line, flush=True)


def make_server(bind, row_id, cert, key, chain):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    path = cert
    if chain:
        path = cert + ".served"
        with open(path, "w") as out:
            out.write(open(cert).read() + open(chain).read())
    ctx.load_cert_chain(path, key)
    ctx.set_alpn_protocols(["http/1.1"])
    ctx.num_tickets = 0
    page = ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{t}</title></head>"
            "<body><h1 id=\"device\">{t}</h1></body></html>").format(t=html.escape(row_id)).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def do_GET(self):
            log("%s GET %s" % (row_id, self.path))
            body = page if self.path != "/favicon.ico" else b""
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, fmt, *a):
            pass

    class Server(http.server.ThreadingHTTPServer):
        daemon_threads = True
        address_family = socket.AF_INET6 if ":" in bind else socket.AF_INET

        def server_bind(self):
            if self.address_family == socket.AF_INET6:
                self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            super().server_bind()

        def finish_request(self, sock, addr):
            sock.settimeout(10)
            try:
                tls = ctx.wrap_socket(sock, server_side=True)
            except (ssl.SSLError, OSError) as e:
                reason = getattr(e, "reason", None) or str(e)
                log("%s handshake-failed %s" % (row_id, str(reason).lower().replace("_", " ")))
                return
            log("%s handshake-ok" % row_id)
            try:
                Handler(tls, addr, self)
            finally:
                try:
                    tls.close()
                except OSError:
                    pass

        def handle_error(self, request, client_address):
            pass

    return Server((bind, 0), Handler)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("rows", nargs="+")
    args = ap.parse_args()
    for spec in args.rows:
        parts = spec.split(":")
        row_id, cert, key = parts[0], parts[1], parts[2]
        chain = parts[3] if len(parts) > 3 and parts[3] else None
        srv = make_server(args.bind, row_id, cert, key, chain)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        log("listening %s %d" % (row_id, srv.server_address[1]))
    log("ready")
    threading.Event().wait()


if __name__ == "__main__":
    sys.exit(main())
