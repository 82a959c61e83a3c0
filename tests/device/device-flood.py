#!/usr/bin/env python3
"""device-flood.py: TCP connections to settle-device that never start the
TLS handshake, from one loopback source address (127.0.0.0/8 all reaches
lo on Linux, so 127.0.0.2 is a second host as far as the device can see).

  device-flood.py hold SOURCE PORT COUNT
      opens COUNT connections at once, waits a second, and prints
      "closed N open M": how many the device closed at once.
  device-flood.py flood SOURCE PORT SECONDS
      keeps opening connections for SECONDS, holding every one the device
      keeps, and prints "opened N closed M held K".
  device-flood.py guess SOURCE PORT 1
      one failed pairing attempt: TLS 1.3 with ALPN settle/1, a
      CLIENT_HELLO whose pA is the generator (a valid point nobody knows
      the secret for), then a hang-up after SERVER_SHARE, which the device
      counts as a failure.  Prints "share" when SERVER_SHARE came, or
      "error CODE TEXT" for the device's ERROR.
"""
import select
import socket
import ssl
import struct
import sys
import time

P256_G = bytes.fromhex(
    "04"
    "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
    "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5")


def connect(source, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((source, 0))
    s.settimeout(2)
    s.connect(("127.0.0.1", port))
    s.setblocking(False)
    return s


def closed_by_peer(s):
    """True when the device has closed `s`: readable and at end of file."""
    readable, _, _ = select.select([s], [], [], 0)
    if not readable:
        return False
    try:
        return s.recv(1) == b""
    except OSError:
        return True


def hold(source, port, count):
    sockets = [connect(source, port) for _ in range(count)]
    time.sleep(1)
    closed = sum(1 for s in sockets if closed_by_peer(s))
    print(f"closed {closed} open {count - closed}")


def flood(source, port, seconds):
    held, opened, closed = [], 0, 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            held.append(connect(source, port))
            opened += 1
        except OSError:
            continue
        still_open = []
        for s in held:
            if closed_by_peer(s):
                closed += 1
                s.close()
            else:
                still_open.append(s)
        held = still_open
        time.sleep(0.002)
    time.sleep(0.5)  # the device may not have seen the last few yet
    closed += sum(1 for s in held if closed_by_peer(s))
    held = [s for s in held if not closed_by_peer(s)]
    print(f"opened {opened} closed {closed} held {len(held)}", flush=True)


def cbor_text(t):
    b = t.encode()
    assert len(b) < 256
    return (bytes([0x60 + len(b)]) if len(b) < 24 else bytes([0x78, len(b)])) + b


def client_hello():
    """{"type": 1, "version": 1, "suite": ..., "pA": G} in CBOR."""
    return (bytes([0xa4]) + cbor_text("type") + b"\x01" + cbor_text("version") + b"\x01"
            + cbor_text("suite") + cbor_text("SPAKE2-P256-SHA256-HKDF-HMAC")
            + cbor_text("pA") + bytes([0x58, len(P256_G)]) + P256_G)


def read_exact(tls, n):
    data = b""
    while len(data) < n:
        chunk = tls.recv(n - len(data))
        if not chunk:
            raise EOFError("the device closed the connection")
        data += chunk
    return data


def guess(source, port):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.set_alpn_protocols(["settle/1"])
    raw = socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(source, 0))
    with ctx.wrap_socket(raw, server_hostname="printer.local") as tls:
        body = client_hello()
        tls.sendall(struct.pack(">I", len(body)) + body)
        length = struct.unpack(">I", read_exact(tls, 4))[0]
        answer = read_exact(tls, length)
        # The type is the value after the key "type" (SERVER_SHARE 2, ERROR 6).
        at = answer.index(cbor_text("type")) + len(cbor_text("type"))
        if answer[at] == 2:
            print("share", flush=True)
        else:
            print("error", answer.decode("utf-8", "replace"), flush=True)


def main():
    mode, source, port, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    if mode == "hold":
        hold(source, port, int(n))
    elif mode == "guess":
        guess(source, port)
    else:
        flood(source, port, float(n))


main()
