#!/usr/bin/env python3
"""A witness HTTPS server for the browser tests.

    https-server.py --cert LEAF.pem --key LEAF.key [--chain CA.pem]
                    [--bind 127.0.0.1] [--port 0] --title TEXT

Listens on a fresh port (0: the kernel picks one) and prints
"listening on ADDR:PORT" on stdout once it accepts connections.  Every
connection is logged on stdout, one line each:

    handshake-ok                   the TLS handshake completed
    handshake-failed REASON        the client aborted it (e.g. it refused
                                   the certificate: "alert bad certificate")
    GET /path                      a request that got past the handshake

so the log is a witness of what the browser decided, independent of what the
browser reports.  Every response closes the connection (HTTP/1.0), so that
the next page load needs a new connection.  TLS 1.3 session tickets are
turned off (num_tickets = 0): a returning browser must do a full handshake
and verify the certificate again.
"""
import argparse
import html
import http.server
import socket
import ssl
import sys
import threading


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--chain")
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--title", required=True)
    ap.add_argument("--tickets", action="store_true",
                    help="allow TLS 1.3 session tickets (resumption)")
    args = ap.parse_args()

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if args.chain:
        # The leaf followed by the issuing device CA, as a device serves it.
        with open(args.cert) as leaf, open(args.chain) as chain:
            bundle = leaf.read() + chain.read()
        path = args.cert + ".bundle"
        with open(path, "w") as out:
            out.write(bundle)
        ctx.load_cert_chain(path, args.key)
    else:
        ctx.load_cert_chain(args.cert, args.key)
    ctx.set_alpn_protocols(["http/1.1"])
    if not args.tickets:
        ctx.num_tickets = 0

    lock = threading.Lock()

    def log(line):
        with lock:
            print(line, flush=True)

    page = ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{t}</title>"
            "<style>body{{font-family:sans-serif;margin:3em;background:#f4f8f4}}"
            "h1{{color:#185c2c}}</style></head>"
            "<body><h1 id=\"device\">{t}</h1>"
            "<p id=\"marker\">settle test page served to a browser that trusted the certificate.</p>"
            "</body></html>").format(t=html.escape(args.title)).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def do_GET(self):
            log("GET " + self.path)
            if self.path == "/favicon.ico":
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, fmt, *a):
            pass

    class Server(http.server.ThreadingHTTPServer):
        daemon_threads = True
        address_family = socket.AF_INET6 if ":" in args.bind else socket.AF_INET

        def finish_request(self, sock, addr):
            # In the request's own thread: a connection that never starts
            # its handshake (a browser's speculative preconnect) blocks
            # nobody else.
            sock.settimeout(10)
            try:
                tls = ctx.wrap_socket(sock, server_side=True)
            except (ssl.SSLError, OSError) as e:
                reason = getattr(e, "reason", None) or str(e)
                log("handshake-failed " + str(reason).lower().replace("_", " "))
                return
            log("handshake-ok")
            try:
                Handler(tls, addr, self)
            finally:
                try:
                    tls.close()
                except OSError:
                    pass

        def handle_error(self, request, client_address):
            pass

    httpd = Server((args.bind, args.port), Handler)
    log("listening on %s:%d" % (args.bind, httpd.server_address[1]))
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
