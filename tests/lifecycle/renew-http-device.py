#!/usr/bin/env python3
"""renew-http-device.py STATE PORT MODE SERIAL: a stand-in for a device's renewal
endpoint, with the device's own TLS identity and CA from its state
directory, that answers in an HTTP shape the reference device never uses:
MODE "chunked" (Transfer-Encoding: chunked, several chunks) or "http10"
(HTTP/1.0, no Content-Length, the body ends when the connection closes).
It requires the client certificate (mutual TLS, TLS 1.3), signs the CSR
with the device CA through the openssl CLI with the role (OU) of the
client's certificate, prints "ready" and serves one request."""
import os
import ssl
import socket
import subprocess
import sys
import tempfile

state, port, mode, serial = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.minimum_version = ssl.TLSVersion.TLSv1_3
ctx.load_cert_chain(os.path.join(state, "tls.pem"), os.path.join(state, "tls.key"))
ctx.load_verify_locations(os.path.join(state, "ca.pem"))
ctx.verify_mode = ssl.CERT_REQUIRED
ctx.set_alpn_protocols(["http/1.1"])

listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", port))
listener.listen(1)
print("ready", flush=True)
raw, _ = listener.accept()
conn = ctx.wrap_socket(raw, server_side=True)

data = b""
while b"\r\n\r\n" not in data:
    data += conn.recv(4096)
head, body = data.split(b"\r\n\r\n", 1)
length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:"))
while len(body) < length:
    body += conn.recv(4096)

subject = [kv for rdn in conn.getpeercert()["subject"] for kv in rdn]
role = next(v for k, v in subject if k == "organizationalUnitName")
with tempfile.TemporaryDirectory() as tmp:
    csr = os.path.join(tmp, "req.der")
    open(csr, "wb").write(body)
    cert = subprocess.run(
        ["openssl", "x509", "-req", "-inform", "DER", "-in", csr, "-CA", os.path.join(state, "ca.pem"),
         "-CAkey", os.path.join(state, "ca.key"), "-set_serial", serial, "-days", "30",
         "-subj", "/CN=settle client/OU=" + role, "-outform", "DER"],
        check=True, capture_output=True).stdout

if mode == "chunked":
    parts = [cert[:100], cert[100:101], cert[101:]]
    answer = b"HTTP/1.1 200 OK\r\nContent-Type: application/pkix-cert\r\nTransfer-Encoding: chunked\r\n\r\n"
    answer += b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"
else:
    answer = b"HTTP/1.0 200 OK\r\nContent-Type: application/pkix-cert\r\n\r\n" + cert
conn.sendall(answer)
conn.close()
