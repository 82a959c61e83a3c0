#!/bin/bash
# store-keyring.sh: the keyring store backend against a real gnome-keyring
# on a private D-Bus session (tests/lib.sh start_keyring): add, list,
# lookup, client keys, replace, remove; the items' schema attributes as
# secret-tool sees them; and a locked collection refused without a prompt
# and without storing anything.
. "$SOURCE_ROOT/tests/lib.sh"
PROBE=${1:?usage: store-keyring.sh PATH-TO-store-keyring-probe}
need_tool secret-tool gdbus timeout

LOGIN=/org/freedesktop/secrets/collection/login

# Before any keyring: SETTLE_STORE=keyring without a bus is a clear error.
check_fails "SETTLE_STORE=keyring without a session bus is refused" \
  "STORE: There is no keyring" env SETTLE_STORE=keyring "$PROBE" count

check "with a dead session bus address the default store is the file store" \
  bash -c '[ "$(DBUS_SESSION_BUS_ADDRESS=unix:path=$2/no-bus SETTLE_STORE= timeout 10 "$1" describe-default)" = "file store $XDG_DATA_HOME/settle/store" ]' _ "$PROBE" "$T_DIR"

start_keyring

# login_locked_is true|false: the Locked property as the service reports it.
login_locked_is() {
  gdbus call --session --dest org.freedesktop.secrets --object-path "$LOGIN" \
    --method org.freedesktop.DBus.Properties.Get org.freedesktop.Secret.Collection Locked \
    | grep -q "<$1>"
}

check "the default store is the keyring when the bus has a Secret Service" \
  bash -c '[ "$("$1" describe-default)" = "keyring (Secret Service)" ]' _ "$PROBE"

if timeout 60 "$PROBE" exercise >"$T_DIR/exercise.out" 2>"$T_DIR/exercise.err"; then
  pass "add, list, lookup, client key, replace and remove in the keyring"
else
  fail "add, list, lookup, client key, replace and remove in the keyring"
  sed 's/^/#   /' "$T_DIR/exercise.err"
fi
kept=$(tail -n 1 "$T_DIR/exercise.out")

secret-tool search --all xdg:schema org.settle.Anchor >"$T_DIR/anchors.txt" 2>&1 || true
check "secret-tool sees the anchor's fingerprint attribute" \
  grep -qx "attribute.fingerprint = $kept" "$T_DIR/anchors.txt"
check "secret-tool sees the anchor's kind attribute" \
  grep -qx "attribute.kind = device-ca" "$T_DIR/anchors.txt"
check "secret-tool sees the anchor's label attribute (after replace)" \
  grep -qx "attribute.label = kr-printer-renamed" "$T_DIR/anchors.txt"
check "exactly one anchor item is left" \
  test "$(grep -c '^attribute.fingerprint = ' "$T_DIR/anchors.txt")" -eq 1
secret-tool search --all xdg:schema org.settle.ClientKey >"$T_DIR/keys.txt" 2>&1 || true
check "secret-tool sees the client key item under its fingerprint" \
  grep -qx "attribute.fingerprint = $kept" "$T_DIR/keys.txt"

# An item a newer settle (format 2) wrote: set aside, the rest usable, and
# deleted by its fingerprint through the real settle command.
newer=$(printf '%064d' 7)
printf '{"format": 2, "fingerprint": "%s"}' "$newer" | secret-tool store --label "newer settle" \
  xdg:schema org.settle.Anchor fingerprint "$newer" kind device-ca label "newer settle"
check "an unreadable item does not hide the readable one" \
  bash -c '[ "$(SETTLE_STORE=keyring "$1" count)" = 1 ]' _ "$PROBE"
check "settle audit reports the unreadable item" \
  bash -c 'SETTLE_STORE=keyring "$1" audit --json | grep -q "\"unreadable-record\""' _ "$SETTLE"
check "settle remove --fingerprint deletes it" \
  env SETTLE_STORE=keyring "$SETTLE" remove --fingerprint "$newer" --yes
check "secret-tool no longer finds it" \
  bash -c '! secret-tool search --all fingerprint "$1" 2>&1 | grep -q attribute' _ "$newer"

check "the login collection locks through org.freedesktop.Secret.Service.Lock" \
  gdbus call --session --dest org.freedesktop.secrets --object-path /org/freedesktop/secrets \
    --method org.freedesktop.Secret.Service.Lock "['$LOGIN']"
check "the collection reports Locked" login_locked_is true

# `timeout` proves there is no hang on an unanswerable prompt.
check_fails "adding while locked gives SETTLE_ERROR_LOCKED" \
  "settle error LOCKED: The keyring is locked" timeout 30 "$PROBE" add kr-while-locked
locked_fp=$(sed -n 1p "$T_DIR/last.out")
check_fails "listing while locked gives SETTLE_ERROR_LOCKED" \
  "settle error LOCKED" timeout 30 "$PROBE" count

check "the collection unlocks with the password" "$PROBE" unlock test-password
check "the collection reports unlocked" login_locked_is false
check "after unlocking, the record kept earlier is still the only one" \
  bash -c '[ "$("$1" count)" = 1 ]' _ "$PROBE"
check "the record refused while locked was not stored" \
  bash -c '"$1" has "$2"; [ $? -eq 2 ]' _ "$PROBE" "$locked_fp"
check "the kept record is found by fingerprint" "$PROBE" has "$kept"
check "secret-tool finds no item for the refused label" \
  bash -c '! secret-tool search --all label kr-while-locked 2>&1 | grep -q attribute'

done_testing
