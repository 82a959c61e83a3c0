#!/usr/bin/env bash
# packaging/systemd: the refresh units pass systemd-analyze verify (with
# ExecStart pointed at the built settle), the timer is daily and starts
# the service, and the commands the service runs (refresh --all, then
# renew --all) work on an empty store and on a store with a referee only
# (nothing to refresh or renew).
. "$SOURCE_ROOT/tests/lib.sh"
need_tool systemd-analyze
UNITS="$SOURCE_ROOT/packaging/systemd"
mkdir -p "$T_DIR/units"
sed "s|^ExecStart=\(-\?\)/usr/bin/settle |ExecStart=\1$SETTLE |" "$UNITS/settle-refresh.service" >"$T_DIR/units/settle-refresh.service"
cp "$UNITS/settle-refresh.timer" "$T_DIR/units/"
check "systemd-analyze verify accepts both units" bash -c \
  "cd '$T_DIR/units' && systemd-analyze verify ./settle-refresh.service ./settle-refresh.timer >'$T_DIR/verify.out' 2>&1; \
   cat '$T_DIR/verify.out'; [ ! -s '$T_DIR/verify.out' ]"
check "the timer runs daily, persistently" bash -c \
  "grep -qx 'OnCalendar=daily' '$UNITS/settle-refresh.timer' && grep -qx 'Persistent=true' '$UNITS/settle-refresh.timer'"
check "the service runs settle refresh --all, then settle renew --all" bash -c \
  "[ \"\$(grep '^ExecStart=' '$UNITS/settle-refresh.service')\" = \"\$(printf 'ExecStart=-/usr/bin/settle refresh --all\nExecStart=/usr/bin/settle renew --all')\" ]"
run_service_commands() {
  local cmd
  while read -r cmd; do "$SETTLE" $cmd || return 1; done \
    < <(sed -n 's|^ExecStart=-\?/usr/bin/settle ||p' "$UNITS/settle-refresh.service")
}
check "its commands succeed on an empty store" run_service_commands
mk_ca "$T_DIR" lab
"$SETTLE" trust --ca "$T_DIR/lab.pem" --fingerprint "$(fingerprint "$T_DIR/lab.pem")" --scope lab.home.arpa \
  --referee --label lab --yes >/dev/null
check "and skip what is not a paired device CA" run_service_commands
done_testing
