#!/usr/bin/env python3
"""discovery-bench.py: run inside the homenet's ua host (discovery-bench.sh).
Times, SAMPLES times each, medians printed as TAP comments:
  avahi-browse -rpt _settle._tcp: first resolved line, and exit;
  settle discover --json: exit (it prints everything at once: its first
    answer is its output);
  settle pair --payload (address-less QR text): from start until the
    connect step names the discovered endpoint (NAME:PORT).
Usage: discovery-bench.py SETTLE NAME PORT QR_TEXT_FILE SAMPLES WORKDIR"""
import os
import statistics
import subprocess
import sys
import time

settle, name, port, qr_file, samples, workdir = sys.argv[1:7]
samples = int(samples)


def timed_until(argv, needle, stream, env=None):
    """(seconds until `needle` shows on `stream`, seconds until exit)."""
    start = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    pipe = p.stdout if stream == "stdout" else p.stderr
    seen, buf = None, b""
    while True:
        chunk = os.read(pipe.fileno(), 4096)
        if not chunk:
            break
        buf += chunk
        if seen is None and needle is not None and needle in buf:
            seen = time.monotonic() - start
    p.communicate()
    return seen, time.monotonic() - start


browse_first, browse_exit, discover_exit, pair_found = [], [], [], []
for i in range(samples):
    first, total = timed_until(["avahi-browse", "-rpt", "_settle._tcp"], b"\n=;", "stdout")
    if first is None:
        first, total = timed_until(["avahi-browse", "-rpt", "_settle._tcp"], b"=;", "stdout")
    browse_first.append(first if first is not None else total)
    browse_exit.append(total)
    _, total = timed_until([settle, "discover", "--json", "--timeout", "5"], None, "stdout")
    discover_exit.append(total)
    env = dict(os.environ)
    home = os.path.join(workdir, "pair-%d" % i)
    os.makedirs(home, exist_ok=True)
    env.update(HOME=home, XDG_DATA_HOME=home + "/data", XDG_CONFIG_HOME=home + "/config", SETTLE_STORE="file:" + home + "/store")
    payload = open(qr_file).read().strip()
    found, _ = timed_until([settle, "pair", "--payload", payload, "--yes", "--timeout", "10"],
                           ("... %s:%s" % (name, port)).encode(), "stderr", env)
    if found is None:
        print("Bail out! settle pair did not report the discovered endpoint %s:%s" % (name, port))
        sys.exit(1)
    pair_found.append(found)

med = lambda xs: statistics.median(xs) * 1000
b_first, b_exit = med(browse_first), med(browse_exit)
d_exit, p_found = med(discover_exit), med(pair_found)
print("# medians of %d, in the homenet (ua browsing, device advertising on port %s)" % (samples, port))
print("# avahi-browse -rpt _settle._tcp: first resolved answer %.1f ms, exit %.1f ms" % (b_first, b_exit))
print("# settle discover --json: first answer (its whole output) %.1f ms; ratio to avahi-browse's exit %.2f (target <= 1.2)"
      % (d_exit, d_exit / b_exit))
print("# settle pair, start to the discovered endpoint (%s:%s, after TLS connect): %.1f ms; ratio to avahi-browse's exit %.2f (target <= 1.2)"
      % (name, port, p_found, p_found / b_exit))
print("1..1")
print("ok 1 - figures printed (no timed test)")
