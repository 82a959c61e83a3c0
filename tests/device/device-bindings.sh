#!/bin/bash
# The binding audit and the admin endpoints of settle-device
# (docs/device.md, "Binding audit and roles"; schema/bindings.schema.json),
# against the real device with curl and real client certificates from the
# ceremony (device-pair-client): an admin reads every binding, a guest
# gets 403, nobody without a certificate reads or changes anything; revoke
# and role changes, the last admin kept, bad input of every kind refused
# with nothing changed on disk, CORS and local-network preflights only for
# allowed origins, and a cross-site POST (Origin of another site) refused
# even with an admin's certificate.  Product tests: no SETTLE_* switch.
. "$SOURCE_ROOT/tests/lib.sh"
need_tool openssl curl python3

PAIR=$BUILD_ROOT/tests/device/device-pair-client
STATE=$T_DIR/state
QR_TXT=$T_DIR/qr.txt
W=/.well-known/settle
BINDINGS=$W/bindings
ORIGINS=$W/origins

start_loopback_device "$STATE" --qr-text "$QR_TXT" || true
check "the device prints the port it picked" test -n "$PORT"
URL=https://127.0.0.1:$PORT
code() { curl -sk -o "$T_DIR/body" -w '%{http_code}' "$@"; }
spki() { openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform der | sha256sum | cut -d' ' -f1; }
# enrolments_sum: what is on disk, to show that a refusal changed nothing.
enrolments_sum() { sha256sum <"$STATE/enrolments.json"; }
json() { python3 -c "import json,sys; d=json.load(open('$T_DIR/body')); print($1)"; }

check "the first client pairs as admin" \
  bash -c "test \"\$('$PAIR' '$QR_TXT' admin '$T_DIR/a.key' '$T_DIR/a.pem')\" = admin"
check "a second client pairs and is granted guest" \
  bash -c "test \"\$('$PAIR' '$QR_TXT' admin '$T_DIR/g.key' '$T_DIR/g.pem')\" = guest"
A=(--cert "$T_DIR/a.pem" --key "$T_DIR/a.key")
G=(--cert "$T_DIR/g.pem" --key "$T_DIR/g.key")
A_FP=$(spki "$T_DIR/a.pem")
G_FP=$(spki "$T_DIR/g.pem")

# ---- reading the bindings ----

check "without a client certificate, the bindings are 401 with a reason" \
  bash -c "test \"\$(curl -sk -o '$T_DIR/body' -w '%{http_code}' '$URL$BINDINGS')\" = 401 && grep -q 'client certificate' '$T_DIR/body'"
check "a guest gets 403 with a reason" \
  bash -c "test \"\$(curl -sk ${G[*]} -o '$T_DIR/body' -w '%{http_code}' '$URL$BINDINGS')\" = 403 && grep -q 'admin role' '$T_DIR/body'"
check "a certificate the device never issued gets 403" \
  bash -c "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout '$T_DIR/x.key' -subj /CN=x -days 1 -out '$T_DIR/x.pem' 2>/dev/null && test \"\$(curl -sk --cert '$T_DIR/x.pem' --key '$T_DIR/x.key' -o /dev/null -w '%{http_code}' '$URL$BINDINGS')\" = 403"
check "an admin reads the bindings (200, JSON)" test "$(code "${A[@]}" "$URL$BINDINGS")" = 200
cp "$T_DIR/body" "$T_DIR/bindings1.json"
check "they list both clients with their roles" \
  test "$(json "sorted((c['fingerprint'], c['role']) for c in d['clients']) == sorted([('$A_FP','admin'),('$G_FP','guest')])")" = True
check "each client says when, by which ceremony, from where and in which epoch" \
  test "$(json "all(c['enrolled_at'] and c['enrolled_by']['kind']=='ceremony' and c['enrolled_by']['peer']=='127.0.0.1' and c['epoch']==d['factory_reset']['epoch'] for c in d['clients'])")" = True
check "the caller is named (you)" test "$(json "d['you']")" = "$A_FP"
check "trust anchors are an explicit empty list" test "$(json "d['trust_anchors']")" = "[]"
check "the device CA chain is there: fingerprint and PEM of ca.pem" \
  bash -c "test \"\$(python3 -c \"import json; d=json.load(open('$T_DIR/bindings1.json')); print(d['ca']['certificates'][0]['sha256'])\")\" = \"\$(openssl x509 -in '$STATE/ca.pem' -noout -fingerprint -sha256 | cut -d= -f2 | tr -d : | tr A-F a-f)\""
check "the factory-reset epoch and its start are there" \
  test "$(json "len(d['factory_reset']['epoch'])==32 and d['factory_reset']['since'].endswith('Z')")" = True
check "the document is valid against schema/bindings.schema.json (python3-jsonschema)" \
  python3 "$SOURCE_ROOT/tests/lifecycle/check-json.py" "$SOURCE_ROOT/schema" bindings.schema.json "$T_DIR/bindings1.json"
check "the enrolments on disk record the epoch too" grep -q '"epoch"' "$STATE/enrolments.json"

# ---- a guest or a stranger changes nothing ----

SUM0=$(enrolments_sum)
check "a guest cannot revoke the admin (403)" test "$(code "${G[@]}" -X POST "$URL$W/clients/$A_FP/revoke")" = 403
check "a guest cannot make itself admin (403)" \
  test "$(code "${G[@]}" -H 'Content-Type: application/json' -d '{"role":"admin"}' "$URL$W/clients/$G_FP/role")" = 403
check "no certificate: revoke is 401" test "$(code -X POST "$URL$W/clients/$G_FP/revoke")" = 401
check "no certificate: role is 401" \
  test "$(code -H 'Content-Type: application/json' -d '{"role":"admin"}' "$URL$W/clients/$G_FP/role")" = 401
check "a guest cannot allow an origin (403)" \
  test "$(code "${G[@]}" -X PUT -H 'Content-Type: application/json' -d '{"origins":["https://evil.example"]}' "$URL$ORIGINS")" = 403
check "nothing changed on disk" test "$(enrolments_sum)" = "$SUM0"
check "and no origins file was written" test ! -e "$STATE/origins.json"

# ---- bad input to every new endpoint: a clear status, nothing changed ----

head -c 20000 /dev/zero | tr '\0' ' ' >"$T_DIR/big.json"
check "an oversized role body is 413" \
  test "$(code "${A[@]}" -H 'Expect:' -H 'Content-Type: application/json' --data-binary "@$T_DIR/big.json" "$URL$W/clients/$G_FP/role")" = 413
check "an oversized origins body is 413" \
  test "$(code "${A[@]}" -X PUT -H 'Expect:' -H 'Content-Type: application/json' --data-binary "@$T_DIR/big.json" "$URL$ORIGINS")" = 413
check "bad JSON is 400" \
  test "$(code "${A[@]}" -H 'Content-Type: application/json' -d '{"role":' "$URL$W/clients/$G_FP/role")" = 400
check "JSON that is not an object is 400" \
  test "$(code "${A[@]}" -H 'Content-Type: application/json' -d '"admin"' "$URL$W/clients/$G_FP/role")" = 400
check "an unknown role is 400 and names the roles" \
  bash -c "test \"\$(curl -sk ${A[*]} -H 'Content-Type: application/json' -d '{\"role\":\"root\"}' -o '$T_DIR/body' -w '%{http_code}' '$URL$W/clients/$G_FP/role')\" = 400 && grep -q guest '$T_DIR/body'"
check "a role that is not a string is 400" \
  test "$(code "${A[@]}" -H 'Content-Type: application/json' -d '{"role":1}' "$URL$W/clients/$G_FP/role")" = 400
check "extra members are 400" \
  test "$(code "${A[@]}" -H 'Content-Type: application/json' -d '{"role":"guest","x":1}' "$URL$W/clients/$G_FP/role")" = 400
check "a role body that is not application/json is 415 (a form post)" \
  test "$(code "${A[@]}" -d 'role=admin' "$URL$W/clients/$G_FP/role")" = 415
check "an empty role body is 400" \
  test "$(code "${A[@]}" -X POST "$URL$W/clients/$G_FP/role")" = 400
check "a fingerprint that is not 64 hex digits is 400" \
  test "$(code "${A[@]}" -X POST "$URL$W/clients/${G_FP:0:63}g/revoke")" = 400
check "a short fingerprint is 400" test "$(code "${A[@]}" -X POST "$URL$W/clients/abcd/revoke")" = 400
check "an unknown action is 404" test "$(code "${A[@]}" -X POST "$URL$W/clients/$G_FP/delete")" = 404
check "a well-formed fingerprint nobody has is 404" \
  test "$(code "${A[@]}" -X POST "$URL$W/clients/$(printf '%064d' 0)/revoke")" = 404
check "a revocation with a body other than {} is 400" \
  test "$(code "${A[@]}" -H 'Content-Type: application/json' -d '{"really":true}' "$URL$W/clients/$G_FP/revoke")" = 400
check "GET on revoke is 405" test "$(code "${A[@]}" "$URL$W/clients/$G_FP/revoke")" = 405
check "POST on bindings is 405" test "$(code "${A[@]}" -X POST "$URL$BINDINGS")" = 405
check "GET on origins is 405" test "$(code "${A[@]}" "$URL$ORIGINS")" = 405
check "an origin with a path is 400" \
  test "$(code "${A[@]}" -X PUT -H 'Content-Type: application/json' -d '{"origins":["https://a.example/x"]}' "$URL$ORIGINS")" = 400
check "an uppercase origin is 400" \
  test "$(code "${A[@]}" -X PUT -H 'Content-Type: application/json' -d '{"origins":["https://A.example"]}' "$URL$ORIGINS")" = 400
check "an origin with its scheme's default port (never what a browser sends) is 400" \
  test "$(code "${A[@]}" -X PUT -H 'Content-Type: application/json' -d '{"origins":["https://a.example:443"]}' "$URL$ORIGINS")" = 400
check "the null origin is 400" \
  test "$(code "${A[@]}" -X PUT -H 'Content-Type: application/json' -d '{"origins":["null"]}' "$URL$ORIGINS")" = 400
check "33 origins are 400" \
  test "$(code "${A[@]}" -X PUT -H 'Content-Type: application/json' -d "{\"origins\":[$(for i in $(seq 33); do printf '"https://h%d.example",' $i; done | sed 's/,$//')]}" "$URL$ORIGINS")" = 400
check "after all of that, nothing changed on disk" test "$(enrolments_sum)" = "$SUM0"
check "and still no origins file" test ! -e "$STATE/origins.json"

# ---- origins, CORS and local-network preflights ----

APP=https://app.example
check "an admin allows one origin (200)" \
  test "$(code "${A[@]}" -X PUT -H 'Content-Type: application/json' -d "{\"origins\":[\"$APP\"]}" "$URL$ORIGINS")" = 200
check "the bindings list it" bash -c "curl -sk ${A[*]} '$URL$BINDINGS' | grep -q '\"$APP\"'"
pre() { curl -sk -i -X OPTIONS -H "Origin: $1" -H 'Access-Control-Request-Method: POST' "${@:2}" "$URL$BINDINGS" | tr -d '\r'; }
check "a preflight from the allowed origin is 204 with CORS headers" \
  bash -c "$(declare -f pre); URL=$URL BINDINGS=$BINDINGS; pre $APP >'$T_DIR/pre' && head -1 '$T_DIR/pre' | grep -q ' 204' && grep -qi '^Access-Control-Allow-Origin: $APP\$' '$T_DIR/pre' && grep -qi '^Access-Control-Allow-Credentials: true\$' '$T_DIR/pre'"
check "with Access-Control-Request-Private-Network it allows the private network" \
  bash -c "$(declare -f pre); URL=$URL BINDINGS=$BINDINGS; pre $APP -H 'Access-Control-Request-Private-Network: true' | grep -qi '^Access-Control-Allow-Private-Network: true\$'"
check "with Access-Control-Request-Local-Network it allows the local network" \
  bash -c "$(declare -f pre); URL=$URL BINDINGS=$BINDINGS; pre $APP -H 'Access-Control-Request-Local-Network: true' | grep -qi '^Access-Control-Allow-Local-Network: true\$'"
check "a preflight from another origin is 403 without any Access-Control header" \
  bash -c "$(declare -f pre); URL=$URL BINDINGS=$BINDINGS; pre https://evil.example -H 'Access-Control-Request-Private-Network: true' >'$T_DIR/pre' && head -1 '$T_DIR/pre' | grep -q ' 403' && ! grep -qi '^Access-Control-Allow' '$T_DIR/pre'"
check "a preflight without Origin is 403" \
  test "$(code -X OPTIONS "$URL$BINDINGS")" = 403
check "the allowed origin with an admin certificate reads the bindings, with CORS headers" \
  bash -c "curl -sk ${A[*]} -i -H 'Origin: $APP' '$URL$BINDINGS' | tr -d '\r' >'$T_DIR/cors' && head -1 '$T_DIR/cors' | grep -q ' 200' && grep -qi '^Access-Control-Allow-Origin: $APP\$' '$T_DIR/cors'"
check "another origin with an admin certificate is 403 (reads nothing)" \
  test "$(code "${A[@]}" -H 'Origin: https://evil.example' "$URL$BINDINGS")" = 403
SUM1=$(enrolments_sum)
check "a cross-site form POST with an admin certificate is 403 (CSRF)" \
  test "$(code "${A[@]}" -H 'Origin: https://evil.example' -H 'Content-Type: application/x-www-form-urlencoded' -d 'x=1' "$URL$W/clients/$G_FP/revoke")" = 403
check "a cross-site JSON POST with an admin certificate is 403" \
  test "$(code "${A[@]}" -H 'Origin: https://evil.example' -H 'Content-Type: application/json' -d '{"role":"admin"}' "$URL$W/clients/$G_FP/role")" = 403
check "an opaque origin (null) is 403" \
  test "$(code "${A[@]}" -H 'Origin: null' -X POST "$URL$W/clients/$G_FP/revoke")" = 403
check "nothing changed on disk" test "$(enrolments_sum)" = "$SUM1"

# ---- role changes and revocation ----

check "an admin makes the guest admin (200)" \
  test "$(code "${A[@]}" -H 'Content-Type: application/json' -d '{"role":"admin"}' "$URL$W/clients/$G_FP/role")" = 200
check "whoami says admin for it now" bash -c "curl -sk ${G[*]} '$URL$W/whoami' | grep -q '\"role\":\"admin\"'"
check "after a role change the bindings are still valid against the schema" \
  bash -c "curl -sk ${A[*]} '$URL$BINDINGS' >'$T_DIR/bindings2.json' && python3 '$SOURCE_ROOT/tests/lifecycle/check-json.py' '$SOURCE_ROOT/schema' bindings.schema.json '$T_DIR/bindings2.json'"
check "the bindings say who set the role" \
  bash -c "test \"\$(curl -sk ${A[*]} '$URL$BINDINGS' | python3 -c \"import json,sys; d=json.load(sys.stdin); print([c['role_set_by'] for c in d['clients'] if c['fingerprint']=='$G_FP'][0])\")\" = '$A_FP'"
check "the second admin demotes the first (200)" \
  test "$(code "${G[@]}" -H 'Content-Type: application/json' -d '{"role":"guest"}' "$URL$W/clients/$A_FP/role")" = 200
check "the first can no longer read the bindings (403)" test "$(code "${A[@]}" "$URL$BINDINGS")" = 403
SUM2=$(enrolments_sum)
check "the last admin cannot demote itself (409, with a reason)" \
  bash -c "test \"\$(curl -sk ${G[*]} -H 'Content-Type: application/json' -d '{\"role\":\"guest\"}' -o '$T_DIR/body' -w '%{http_code}' '$URL$W/clients/$G_FP/role')\" = 409 && grep -q 'last admin' '$T_DIR/body'"
check "the last admin cannot revoke itself (409)" test "$(code "${G[@]}" -X POST "$URL$W/clients/$G_FP/revoke")" = 409
check "nothing changed on disk" test "$(enrolments_sum)" = "$SUM2"
check "the admin revokes the other client (200)" test "$(code "${G[@]}" -X POST "$URL$W/clients/$A_FP/revoke")" = 200
check "the revoked client is refused at once (403 on whoami)" test "$(code "${A[@]}" "$URL$W/whoami")" = 403
check "the bindings hold one client" \
  bash -c "test \"\$(curl -sk ${G[*]} '$URL$BINDINGS' | python3 -c 'import json,sys; print(len(json.load(sys.stdin)[\"clients\"]))')\" = 1"
check "the enrolments file is whole JSON and 0600" \
  bash -c "python3 -m json.tool '$STATE/enrolments.json' >/dev/null && test \"\$(stat -c %a '$STATE/enrolments.json')\" = 600"
check "no temporary files left in the state directory" bash -c "! ls -a '$STATE' | grep -q '~\\|\\.tmp\\|XXXXXX\\|^\\.'enrol"
check "the device logged the admin changes" grep -q 'revoked the client' "$T_DIR/dev.err"

# ---- a restart keeps the epoch, the changes and the origins ----

kill "$DEV_PID"; wait "$DEV_PID" 2>/dev/null
EPOCH=$(python3 -c "import json; print(json.load(open('$T_DIR/bindings1.json'))['factory_reset']['epoch'])")
start_loopback_device "$STATE" --qr-text "$QR_TXT" || true
URL=https://127.0.0.1:$PORT
check "after a restart the epoch is the same" \
  bash -c "curl -sk ${G[*]} '$URL$BINDINGS' >'$T_DIR/b2' && grep -q '\"$EPOCH\"' '$T_DIR/b2' && grep -q '\"$APP\"' '$T_DIR/b2'"
check "a factory reset removes the origins too" \
  bash -c "kill $DEV_PID; sleep 0.3; '${SETTLE_DEVICE:-$BUILD_ROOT/device/settle-device}' reset --state '$STATE' >/dev/null && test ! -e '$STATE'"
start_loopback_device "$STATE" --qr-text "$QR_TXT" || true
URL=https://127.0.0.1:$PORT
check "a new client pairs as admin after the reset" \
  bash -c "test \"\$('$PAIR' '$QR_TXT' admin '$T_DIR/n.key' '$T_DIR/n.pem')\" = admin"
check "the new state has a new epoch and no origins" \
  bash -c "curl -sk --cert '$T_DIR/n.pem' --key '$T_DIR/n.key' '$URL$BINDINGS' >'$T_DIR/b3' && ! grep -q '\"$EPOCH\"' '$T_DIR/b3' && python3 -c \"import json; d=json.load(open('$T_DIR/b3')); assert d['allowed_origins']==[] and len(d['clients'])==1\""
check "SIGTERM stops the device" \
  bash -c "kill -TERM $DEV_PID; for i in \$(seq 50); do kill -0 $DEV_PID 2>/dev/null || exit 0; sleep 0.1; done; exit 1"
check "no sanitizer report in the device log (leaks are reported at exit)" \
  bash -c "if grep -Eq 'Sanitizer|runtime error' '$T_DIR/dev.err'; then cat '$T_DIR/dev.err'; exit 1; fi"
done_testing
