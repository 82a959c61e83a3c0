#!/usr/bin/env python3
"""Runs a command on a new pseudo-terminal, waits for a prompt, types an
answer, and exits with the command's status.  The command's output is
copied to stdout so tests can grep it.

usage: pty-answer.py PROMPT_REGEX ANSWER COMMAND [ARG...]
"""
import os
import pty
import re
import select
import sys
import time


def main():
    prompt, answer, argv = re.compile(sys.argv[1].encode()), sys.argv[2], sys.argv[3:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(argv[0], argv)
    seen, answered, deadline = b"", False, time.monotonic() + 30
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
        if not answered and prompt.search(seen):
            os.write(fd, (answer + "\n").encode())
            answered = True
    _, status = os.waitpid(pid, 0)
    if not answered:
        print("\npty-answer: the prompt never appeared", file=sys.stderr)
        sys.exit(3)
    sys.exit(os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    main()
