#!/usr/bin/env python3
"""check-json.py: validates a JSON document against one of settle's
schemas (schema/*.schema.json, which refer to each other by relative
$ref).  Exits 0 when valid, 1 with the errors otherwise, 77 (skip) without
python3-jsonschema outside CI.  Usage: check-json.py SCHEMA_DIR NAME FILE"""
import json
import os
import pathlib
import sys

try:
    from jsonschema import Draft202012Validator
except ImportError:
    if os.environ.get("CI") == "true":
        print("Bail out! python3-jsonschema is missing (CI must install it)")
        sys.exit(1)
    print("python3-jsonschema is missing")
    sys.exit(77)

schema_dir, name, document_path = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3]
schemas = {p.name: json.loads(p.read_text(encoding="utf-8")) for p in schema_dir.glob("*.schema.json")}
schema = schemas[name]
Draft202012Validator.check_schema(schema)
try:
    from referencing import Registry, Resource  # jsonschema >= 4.18
    registry = Registry().with_resources(
        (s["$id"], Resource.from_contents(s)) for s in schemas.values())
    validator = Draft202012Validator(schema, registry=registry)
except ImportError:  # Debian 12's python3-jsonschema 4.10
    from jsonschema import RefResolver
    resolver = RefResolver.from_schema(schema, store={s["$id"]: s for s in schemas.values()})
    validator = Draft202012Validator(schema, resolver=resolver)
document = json.loads(pathlib.Path(document_path).read_text(encoding="utf-8"))
errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
for error in errors:
    print(f"{list(error.path)}: {error.message}")
sys.exit(1 if errors else 0)
