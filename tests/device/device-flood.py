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
"""
import select
import socket
import sys
import time


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


def main():
    mode, source, port, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    if mode == "hold":
        hold(source, port, int(n))
    else:
        flood(source, port, float(n))


main()
