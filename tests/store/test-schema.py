#!/usr/bin/env python3
"""test-schema.py: schema/record.schema.json accepts what settle writes and
refuses what settle's parser refuses (a sample of the malformed documents
of test-record-json.c).  Usage: test-schema.py SCHEMA SAMPLE-PROGRAM"""
import copy
import json
import os
import subprocess
import sys

try:
    from jsonschema import Draft202012Validator
except ImportError:
    if os.environ.get("CI") == "true":
        print("Bail out! python3-jsonschema is missing (CI must install it)")
        sys.exit(1)
    print("1..0 # SKIP python3-jsonschema is missing")
    sys.exit(77)

schema_path, sample_program = sys.argv[1], sys.argv[2]
with open(schema_path, encoding="utf-8") as f:
    schema = json.load(f)
Draft202012Validator.check_schema(schema)
validator = Draft202012Validator(schema)

lines = subprocess.run([sample_program], check=True, capture_output=True,
                       text=True).stdout.splitlines()
device, peer = (json.loads(line) for line in lines)

count = 0
failed = 0


def report(ok, description):
    global count, failed
    count += 1
    failed += 0 if ok else 1
    print(f"{'ok' if ok else 'not ok'} {count} - {description}")


def errors_of(document):
    return [e.message for e in validator.iter_errors(document)]


for name, document in (("device-ca", device), ("pinned-peer", peer)):
    errors = errors_of(document)
    report(not errors, f"settle's {name} record is valid: {errors}")

# A newer minor version's members are part of the format (kept on rewrite).
newer = copy.deepcopy(device)
newer["format_minor"] = 3
newer["voucher"] = {"serial": "X1"}
errors = errors_of(newer)
report(not errors, f"a record with a newer minor version's member is valid: {errors}")

REMOVED = object()
MUTATIONS = [
    ("format", 2), ("format", "1"), ("format", REMOVED), ("label", 42), ("label", ""),
    ("label", "printer\u001b[31m"), ("kind", "root-ca"), ("consent", "maybe"),
    ("names", "printer.local"), ("names", ["Printer.LOCAL"]), ("scope", []),
    ("scope", ["*.home.arpa"]), ("created", 1700000000), ("created", "2023-11-14 22:13:20"),
    ("expires", "2023-11-14T22:13:20+01:00"), ("role", "print admin"),
    ("fingerprint", "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"),
    ("anchor_der", "!!!!"), ("anchor_der", "MIIB IAo="), ("wrapper_root_der", REMOVED),
    ("kind", "pinned-peer"), ("format_minor", -1), ("format_minor", "2"), ("address", 8443), ("address", "printer.local"),
    ("address", "a b.local:443"),
]
for member, value in MUTATIONS:
    document = copy.deepcopy(device)
    if value is REMOVED:
        del document[member]
    else:
        document[member] = value
    report(bool(errors_of(document)), f"schema refuses {member} = {value!r}"
           if value is not REMOVED else f"schema refuses a record without {member}")

print(f"1..{count}")
sys.exit(1 if failed else 0)
