#!/usr/bin/env python3
"""substitute.py FILE [OLD NEW]...: prints FILE with each OLD replaced by NEW.

The files in packaging/ name the paths of a Debian system (/usr/bin/settle,
/usr/lib/.../pkcs11/...) so that they can be read and tested as they are;
meson makes the installed copies with the paths of the actual installation.
A pair whose OLD does not occur is an error: a file that changed under us
must not be installed with a stale path."""
import sys

text = open(sys.argv[1], encoding="utf-8").read()
pairs = sys.argv[2:]
if len(pairs) % 2:
    sys.exit("substitute.py: OLD and NEW come in pairs")
for old, new in zip(pairs[0::2], pairs[1::2]):
    if old not in text:
        sys.exit(f"substitute.py: {old!r} does not occur in {sys.argv[1]}")
    text = text.replace(old, new)
sys.stdout.write(text)
