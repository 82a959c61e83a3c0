#!/usr/bin/env python3
"""Runs a command on a new pseudo-terminal, waits for a prompt, types an
answer, and exits with the command's status.  The command's output is
copied to stdout so tests can grep it.

usage: pty-answer.py PROMPT_REGEX ANSWER COMMAND [ARG...]
       pty-answer.py PROMPT_REGEX ANSWER [PROMPT_REGEX ANSWER ...] -- COMMAND [ARG...]

The second form answers several prompts in order; each prompt is looked
for only in the output after the previous answer.  An ANSWER ending in
^D is typed without a newline, each ^D as the terminal's end-of-file
character (so "yes^D^D" is "yes", then Ctrl-D twice).
"""
import os
import pty
import re
import select
import sys
import time


def parse(args):
    if "--" in args:
        split = args.index("--")
        pairs, argv = args[:split], args[split + 1:]
        if len(pairs) % 2 != 0 or not pairs:
            sys.exit("pty-answer: PROMPT_REGEX ANSWER pairs expected before --")
        return [(re.compile(pairs[i].encode()), pairs[i + 1]) for i in range(0, len(pairs), 2)], argv
    return [(re.compile(args[0].encode()), args[1])], args[2:]


def typed(answer):
    if answer.endswith("^D"):
        return answer.replace("^D", "\x04").encode()
    return (answer + "\n").encode()


def main():
    steps, argv = parse(sys.argv[1:])
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(argv[0], argv)
    seen, done, deadline = b"", 0, time.monotonic() + 30
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
        sys.stdout.buffer.write(chunk)
        if done < len(steps) and steps[done][0].search(seen):
            for byte in typed(steps[done][1]):
                # One byte at a time, so that each ^D ends its own read().
                os.write(fd, bytes([byte]))
                time.sleep(0.05)
            done += 1
            seen = b""
    _, status = os.waitpid(pid, 0)
    if done < len(steps):
        print("\npty-answer: prompt %d of %d never appeared" % (done + 1, len(steps)), file=sys.stderr)
        sys.exit(3)
    sys.exit(os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    main()
