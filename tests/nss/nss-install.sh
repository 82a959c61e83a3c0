#!/bin/bash
# `settle install` / `settle uninstall` on a temporary NSS database, a fake
# Firefox profiles.ini tree and the Chromium locations, all under the
# test's private HOME.
. "$SOURCE_ROOT/tests/lib.sh"
need_tool certutil modutil

# No SETTLE_PKCS11_MODULE: an uninstalled settle finds its build tree's
# module by itself (the uninstalled kind; tests/installed has the installed
# kind).  The override is checked once below (the lab kind).
MODULE=${TEST_PKCS11_MODULE:-$BUILD_ROOT/nss-module/libsettle-pkcs11.so}
# modutil (run by settle install, and here) loads the module: under ASan
# it needs the module's runtime.
preload_asan_runtime "$MODULE"
registered() { modutil -rawlist -dbdir "sql:$1" | grep -q 'name="SETTLE Local Trust"'; }
unregistered() { ! registered "$1"; }
mkdb() { mkdir -p "$1" && certutil -N -d "sql:$1" --empty-password; }

DB=$T_DIR/db
mkdb "$DB"
check "install --nssdb registers the module" "$SETTLE" install --nssdb "sql:$DB"
check "the database lists it" registered "$DB"
check "it points at the module" bash -c "modutil -rawlist -dbdir 'sql:$DB' | grep -qF 'library=\"$MODULE\"'"
"$SETTLE" install --nssdb "$DB" >"$T_DIR/again.txt"
check "installing again changes nothing" grep -q '^Already registered in' "$T_DIR/again.txt"
check "the module is listed once" test "$(modutil -rawlist -dbdir "sql:$DB" | grep -c 'SETTLE Local Trust')" -eq 1
# The lab kind: SETTLE_PKCS11_MODULE points settle at another copy.
DB_OVERRIDE=$T_DIR/db-override
mkdb "$DB_OVERRIDE"
mkdir -p "$T_DIR/elsewhere" && cp "$MODULE" "$T_DIR/elsewhere/libsettle-pkcs11.so"
check "SETTLE_PKCS11_MODULE registers that module instead (lab override)" bash -c "
  SETTLE_PKCS11_MODULE='$T_DIR/elsewhere/libsettle-pkcs11.so' '$SETTLE' install --nssdb '$DB_OVERRIDE' >/dev/null &&
  modutil -rawlist -dbdir 'sql:$DB_OVERRIDE' | grep -qF 'library=\"$T_DIR/elsewhere/libsettle-pkcs11.so\"'"
check_fails "a missing module path is refused" "does not exist" \
  "$SETTLE" install --nssdb "$DB" --module "$T_DIR/nothing.so"
check_fails "a directory without a database is refused" "no NSS database" \
  "$SETTLE" install --nssdb "$T_DIR/empty"
check_fails "no target is a usage error" "say where" "$SETTLE" install
rc=0; "$SETTLE" install >/dev/null 2>&1 || rc=$?
check "usage errors exit 2" test "$rc" -eq 2
check "uninstall --nssdb removes it" "$SETTLE" uninstall --nssdb "$DB"
check "the database no longer lists it" unregistered "$DB"
"$SETTLE" uninstall --nssdb "$DB" >"$T_DIR/again.txt"
check "uninstalling again changes nothing" grep -q '^Not registered in' "$T_DIR/again.txt"

# Firefox: two profiles (one relative, one absolute), one never started.
FF=$HOME/.mozilla/firefox
mkdb "$FF/abc.default-esr"
mkdb "$T_DIR/elsewhere/work"
mkdir -p "$FF/new.unused"
cat >"$FF/profiles.ini" <<INI
[General]
StartWithLastProfile=1

[Profile0]
Name=default-esr
IsRelative=1
Path=abc.default-esr
Default=1

[Profile1]
Name=work
IsRelative=0
Path=$T_DIR/elsewhere/work

[Profile2]
Name=unused
IsRelative=1
Path=new.unused

[Install4F96D1932A9F858E]
Default=abc.default-esr
INI
check "install --firefox registers in every profile" "$SETTLE" install --firefox
check "relative profile" registered "$FF/abc.default-esr"
check "absolute profile" registered "$T_DIR/elsewhere/work"
check "a profile without a database is left alone" test ! -e "$FF/new.unused/cert9.db"
ln -s "127.0.0.1:+$$" "$FF/abc.default-esr/lock"
check_fails "a profile in use by a running Firefox is refused" "Firefox is running" "$SETTLE" install --firefox
rm "$FF/abc.default-esr/lock"
# A crashed Firefox leaves its lock behind, naming a process that is gone.
sleep 0 & dead=$!; wait $dead
ln -s "127.0.0.1:+$dead" "$FF/abc.default-esr/lock"
check "a stale lock (its process is gone) does not block install" "$SETTLE" install --firefox
rm "$FF/abc.default-esr/lock"
check "uninstall --firefox removes it everywhere" "$SETTLE" uninstall --firefox
check "relative profile cleaned" unregistered "$FF/abc.default-esr"
check "absolute profile cleaned" unregistered "$T_DIR/elsewhere/work"

# Firefox ESR 153 makes new profiles under $XDG_CONFIG_HOME/mozilla/firefox.
XFF=${XDG_CONFIG_HOME:-$HOME/.config}/mozilla/firefox
mkdb "$XFF/xyz.default-esr"
printf '[Profile0]\nName=default-esr\nIsRelative=1\nPath=xyz.default-esr\nDefault=1\n' >"$XFF/profiles.ini"
check "install --firefox finds the XDG profile too" "$SETTLE" install --firefox
check "XDG profile" registered "$XFF/xyz.default-esr"
check "uninstall --firefox cleans the XDG profile" "$SETTLE" uninstall --firefox
check "XDG profile cleaned" unregistered "$XFF/xyz.default-esr"
mv "$XFF/profiles.ini" "$XFF/profiles.ini.off"; mv "$FF/profiles.ini" "$FF/profiles.ini.off"
check_fails "install --firefox without any profile fails (exit 1)" "no Firefox profile found" \
  "$SETTLE" install --firefox
check "uninstall --firefox without any profile is fine" "$SETTLE" uninstall --firefox
mv "$XFF/profiles.ini.off" "$XFF/profiles.ini"; mv "$FF/profiles.ini.off" "$FF/profiles.ini"

# Chromium: with no database anywhere, the XDG one is created (what
# Chromium 146+ would create); where databases exist, all of them are used.
check "install --chromium with no database" "$SETTLE" install --chromium
check "creates and registers \$XDG_DATA_HOME/pki/nssdb" registered "$XDG_DATA_HOME/pki/nssdb"
check "does not create the legacy ~/.pki/nssdb" test ! -e "$HOME/.pki/nssdb"
mkdb "$HOME/.pki/nssdb"
check "install --chromium again" "$SETTLE" install --chromium
check "registers in the legacy ~/.pki/nssdb that now exists" registered "$HOME/.pki/nssdb"
check "uninstall --chromium" "$SETTLE" uninstall --chromium
check "XDG database cleaned" unregistered "$XDG_DATA_HOME/pki/nssdb"
check "legacy database cleaned" unregistered "$HOME/.pki/nssdb"

# Sandboxed browsers cannot load a module from the host's /usr: a clear
# word instead of a registration that could never work.
SNAPDB=$HOME/snap/chromium/current/.local/share/pki/nssdb
mkdb "$SNAPDB"
"$SETTLE" install --chromium >"$T_DIR/snap.out" 2>&1 || true
check "install --chromium says why the snap Chromium is left alone" \
  grep -q "not registering in $SNAPDB: the snap browser there runs in its sandbox" "$T_DIR/snap.out"
check "and does not register it there" unregistered "$SNAPDB"
check "the native databases are still registered" registered "$XDG_DATA_HOME/pki/nssdb"
"$SETTLE" uninstall --chromium >/dev/null 2>&1
done_testing
