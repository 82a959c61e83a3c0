#!/usr/bin/env python3
"""Concurrent `settle trust` / `settle remove` under random SIGKILLs, for
tests/crash/crash-store.sh.

usage: crash-driver.py SETTLE PKI_DIR WORKERS OPERATIONS LOG

PKI_DIR holds slot-N.pem (CA certificates) and slot-N.fp (fingerprints).
Each worker owns the slots N with N % WORKERS == its index, so that the
order of the changes to one slot is the order of one worker's commands.
A worker runs commands one after another (trust when it believes the
slot is absent, remove when present, a coin toss after a kill) until the
workers together have started OPERATIONS commands.  A killer sends SIGKILL
to a random running settle process (one of ours, by its PID), at a random
moment, again and again.  LOG gets one JSON line per finished command:
{"seq", "worker", "op", "slot", "rc"}, rc -9 for a killed command; the
order of the lines is the order in which commands finished, and seq the
order in which each worker started them.
"""
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time

# Between two kills.  The commands got fast (1,000 in about 5 s on two
# cores since the store's snapshot is changed incrementally), faster than
# fixed pauses kill a twentieth of them; so the killer hurries (the short
# pauses) while fewer than KILL_SHARE_MIN of the commands started so far
# were killed, and otherwise kills at the leisurely pace.
KILL_PAUSE_MS = (20, 200)
KILL_PAUSE_HURRIED_MS = (2, 30)
KILL_SHARE_MIN = 0.1
# At most this share of the commands started so far is killed: on a slow
# or loaded machine (sanitizers, a busy CI) commands take longer than the
# pauses, and without a cap nearly every one would die before finishing,
# leaving nothing done to check.
KILL_SHARE = 0.4


class Shared:
    def __init__(self, operations):
        self.lock = threading.Lock()
        self.started = 0
        self.operations = operations
        self.running = {}      # pid -> Popen
        self.done = False
        self.kills = 0

    def take_ticket(self):
        with self.lock:
            if self.started >= self.operations:
                return None
            self.started += 1
            return self.started


def command(settle, pki, op, slot):
    if op == "trust":
        with open(os.path.join(pki, f"slot-{slot}.fp")) as f:
            fp = f.read().strip()
        return [settle, "trust", "--ca", os.path.join(pki, f"slot-{slot}.pem"),
                "--fingerprint", fp, "--scope", f"dev{slot}.local", "--label", f"slot-{slot}",
                "--yes"]
    return [settle, "remove", f"slot-{slot}", "--yes"]


def choose_op(belief, slot):
    state = belief.get(slot)
    if state is None:
        return random.choice(["trust", "remove"])
    return "remove" if state else "trust"


def update_belief(belief, slot, op, rc, output):
    if rc == 0:
        belief[slot] = op == "trust"
    elif rc == 1 and op == "trust" and "already trusted" in output:
        belief[slot] = True
    elif rc == 1 and op == "remove" and "No trusted" in output:
        belief[slot] = False
    else:
        belief[slot] = None


def run_one(shared, argv):
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    with shared.lock:
        shared.running[proc.pid] = proc
    output, _ = proc.communicate()
    with shared.lock:
        # Gone from the table as soon as it is reaped, so that a PID the
        # system may hand out again is not signalled.
        del shared.running[proc.pid]
    return proc.returncode, output.decode(errors="replace")


def worker(shared, settle, pki, index, workers, slots, log, log_lock):
    mine = [s for s in range(slots) if s % workers == index]
    belief = {}
    while True:
        seq = shared.take_ticket()
        if seq is None:
            return
        slot = random.choice(mine)
        op = choose_op(belief, slot)
        rc, output = run_one(shared, command(settle, pki, op, slot))
        update_belief(belief, slot, op, rc, output)
        line = {"seq": seq, "worker": index, "op": op, "slot": slot, "rc": rc}
        if rc not in (0, 1, -signal.SIGKILL):
            line["output"] = output[-400:]
        with log_lock:
            log.write(json.dumps(line) + "\n")
            log.flush()


def killer(shared):
    while not shared.done:
        with shared.lock:
            behind = shared.kills < shared.started * KILL_SHARE_MIN
        time.sleep(random.uniform(*(KILL_PAUSE_HURRIED_MS if behind else KILL_PAUSE_MS)) / 1000)
        with shared.lock:
            # Only children whose exit status was not collected yet: their
            # PID cannot belong to anyone else (the window between waitpid
            # and the returncode update is a few instructions).
            victims = [p for p in shared.running.values() if p.returncode is None]
            if victims and shared.kills < shared.started * KILL_SHARE:
                victim = random.choice(victims)
                try:
                    os.kill(victim.pid, signal.SIGKILL)
                    shared.kills += 1
                except ProcessLookupError:
                    pass


def main():
    settle, pki, workers, operations, log_path = sys.argv[1:6]
    workers, operations = int(workers), int(operations)
    slots = len([n for n in os.listdir(pki) if n.endswith(".pem")])
    shared = Shared(operations)
    log_lock = threading.Lock()
    started = time.monotonic()
    with open(log_path, "w") as log:
        threads = [threading.Thread(target=worker,
                                    args=(shared, settle, pki, i, workers, slots, log, log_lock))
                   for i in range(workers)]
        kill_thread = threading.Thread(target=killer, args=(shared,))
        kill_thread.start()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        shared.done = True
        kill_thread.join()
    print(f"{operations} operations by {workers} workers in {time.monotonic() - started:.1f} s, "
          f"{shared.kills} SIGKILLs sent")


if __name__ == "__main__":
    main()
