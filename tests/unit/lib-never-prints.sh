#!/usr/bin/env bash
# tests/unit/lib-never-prints.sh: lib/ never prints.  Front-ends (helper/,
# device/, tests/manage/scripted-frontend.c) say things; the library
# reports through GError and the manager's callbacks (settle-manager.h).
#
# Fails when a C file under lib/ calls a printing function or names a
# standard stream.  Comments and string literals are ignored (the
# preprocessor strips comments; string literals are blanked), so a
# sentence mentioning "stderr" is fine.  GLib's logging (g_warning,
# g_debug) goes through the program's log handler and is not counted.
set -euo pipefail

: "${SOURCE_ROOT:?run through meson test}"
CC_BIN=${CC:-cc}

calls='\b(g_print|g_printerr|g_printf|g_fprintf|g_vprintf|g_vfprintf|printf|vprintf|fprintf|vfprintf|dprintf|vdprintf|puts|fputs|putchar|putc|fputc|perror|psignal)[[:space:]]*\('
streams='\b(stdout|stderr|STDOUT_FILENO|STDERR_FILENO)\b|\bwrite[[:space:]]*\([[:space:]]*[12][[:space:]]*,'

found=0
checked=0
while IFS= read -r -d '' file; do
  checked=$((checked + 1))
  # Comments out (without expanding anything), then string and character
  # literals blanked; line markers keep the line numbers.
  if ! code=$("$CC_BIN" -fpreprocessed -dD -E "$file" 2>/dev/null); then
    echo "not ok: cannot read $file"; found=1; continue
  fi
  hits=$(printf '%s\n' "$code" \
    | awk '/^# [0-9]+ "/ { line = $2 - 1; next } { line++; print line ": " $0 }' \
    | sed -E 's/"([^"\\]|\\.)*"/""/g; s/'"'"'([^'"'"'\\]|\\.)+'"'"'/'"''"'/g' \
    | grep -E "$calls|$streams" || true)
  if [ -n "$hits" ]; then
    found=1
    while IFS= read -r hit; do
      echo "${file#"$SOURCE_ROOT"/}:$hit"
    done <<< "$hits"
  fi
done < <(find "$SOURCE_ROOT/lib" -name '*.[ch]' -print0 | sort -z)

if [ "$checked" -eq 0 ]; then
  echo "no C files found under $SOURCE_ROOT/lib"
  exit 1
fi
if [ "$found" -ne 0 ]; then
  echo "FAIL: lib/ prints (above); report through GError or the manager's events instead"
  exit 1
fi
echo "ok: $checked files under lib/, none prints"
