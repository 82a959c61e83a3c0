#!/usr/bin/env python3
"""Hostile stand-ins for a device, for tests/pair/pair-hostile*.sh.

usage: fake-server.py MODE [ARGS...]       prints "PORT n" when listening
  silent                      accepts TCP and never says anything
  frames CERT KEY KIND        TLS 1.3 + ALPN settle/1 with the given identity;
                              reads CLIENT_HELLO, then answers with a bad frame:
                              KIND = truncated | oversized | garbage |
                              midheader (2 of the 4 header bytes, then close) |
                              trickle (a well-formed frame header and body, one
                              byte every TRICKLE_DELAY s: 20 s for the frame)
  hangup                      accepts TCP, reads the TLS ClientHello and closes
                              without answering it: a close mid-handshake
  relay CERT KEY PORT         terminates TLS (ALPN settle/1) with its own
                              identity and re-originates it to 127.0.0.1:PORT,
                              copying the bytes both ways: a machine in the middle
"""
import socket
import ssl
import struct
import sys
import threading
import time

TRICKLE_DELAY = 0.3
TRICKLE_BODY = 64


def listen():
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    print("PORT", srv.getsockname()[1], flush=True)
    return srv


def server_context(cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(cert, key)
    ctx.set_alpn_protocols(["settle/1"])
    return ctx


def read_exact(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def silent():
    srv = listen()
    held = []
    while True:
        conn, _ = srv.accept()
        held.append(conn)  # keep it open, say nothing


def frames(cert, key, kind):
    srv = listen()
    ctx = server_context(cert, key)
    while True:
        raw, _ = srv.accept()
        try:
            conn = ctx.wrap_socket(raw, server_side=True)
            length = struct.unpack(">I", read_exact(conn, 4))[0]
            read_exact(conn, length)  # CLIENT_HELLO, unread
            if kind == "midheader":
                conn.sendall(struct.pack(">I", 200)[:2])
            elif kind == "trickle":
                trickle(conn, struct.pack(">I", TRICKLE_BODY) + b"\xa1" * TRICKLE_BODY)
            elif kind == "truncated":
                conn.sendall(struct.pack(">I", 200) + b"\xa1" * 20)
            elif kind == "oversized":
                conn.sendall(struct.pack(">I", 65536 + 1) + b"\x00" * 64)
                time.sleep(1)
            else:
                conn.sendall(struct.pack(">I", 8) + b"\xff" * 8)
                time.sleep(1)
            conn.close()
        except (OSError, EOFError, ssl.SSLError):
            pass


def trickle(conn, data):
    """One byte at a time: each arrives well within any per-read timeout,
    the whole frame long after the helper's deadline for it."""
    for i in range(len(data)):
        conn.sendall(data[i:i + 1])
        time.sleep(TRICKLE_DELAY)


def hangup():
    srv = listen()
    while True:
        conn, _ = srv.accept()
        try:
            conn.recv(4096)  # the ClientHello
        except OSError:
            pass
        conn.close()


def pump(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def relay(cert, key, port):
    srv = listen()
    ctx = server_context(cert, key)
    client_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client_ctx.check_hostname = False
    client_ctx.verify_mode = ssl.CERT_NONE
    client_ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    client_ctx.set_alpn_protocols(["settle/1"])
    while True:
        raw, _ = srv.accept()
        try:
            front = ctx.wrap_socket(raw, server_side=True)
            back = client_ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(port))))
        except (OSError, ssl.SSLError):
            continue
        threading.Thread(target=pump, args=(front, back), daemon=True).start()
        threading.Thread(target=pump, args=(back, front), daemon=True).start()


if __name__ == "__main__":
    mode, args = sys.argv[1], sys.argv[2:]
    {"silent": silent, "frames": frames, "relay": relay, "hangup": hangup}[mode](*args)
