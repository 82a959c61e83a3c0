#!/bin/bash
# settle-device's HTTP on the ceremony port (libsoup3 over the device's
# own TLS, device/device-http.c): keep-alive, HTTP/1.0, chunked request
# bodies, the body bound (413 before the body is read, also for chunked
# bodies), 404/405/414, 400 for garbage, renewal through a chunked POST,
# one certificate renewed into exactly one even when two renewals race,
# and the idle timeout.
. "$SOURCE_ROOT/tests/lib.sh"
need_tool openssl curl python3

DEV=${SETTLE_DEVICE:-$BUILD_ROOT/device/settle-device}
PAIR=$BUILD_ROOT/tests/device/device-pair-client
STATE=$T_DIR/state
QR_TXT=$T_DIR/qr.txt
RENEW=/.well-known/settle/renew
WHOAMI=/.well-known/settle/whoami
CSR_MAX=16384

# A sanitized build reports every leak of the device at its end (the last
# check), with the full stack of every allocation, as GLib has no frame
# pointers for the fast unwinder.  libsoup before 3.5.2 would leak on the
# bad framing headers below, were they not kept from it.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0" \
  start_loopback_device "$STATE" --qr-text "$QR_TXT" || true
check "the device prints the port it picked" test -n "$PORT"
URL=https://127.0.0.1:$PORT

# raw TEXT: sends TEXT (printf format) over TLS as it is and writes the
# answer to $T_DIR/raw; fails unless the device closes the connection
# within 5 s (as it must after Connection: close, HTTP/1.0 or an error).
raw() {
  printf "$1" | timeout 5 openssl s_client -quiet -connect "127.0.0.1:$PORT" >"$T_DIR/raw" 2>/dev/null
}
code() { curl -sk -o /dev/null -w '%{http_code}' "$@"; }
export PORT T_DIR
export -f raw

# ---- keep-alive, HTTP/1.0, methods, paths ----

check "two requests share one connection (keep-alive)" \
  bash -c "test \"\$(curl -sk -o /dev/null -o /dev/null -w '%{http_code}:%{num_connects} ' '$URL/' '$URL/nope')\" = '200:1 404:0 '"
check "curl says it re-used the connection, and connected once" \
  bash -c "curl -sk -v -o /dev/null -o /dev/null '$URL/' '$URL$WHOAMI' >'$T_DIR/v' 2>&1 && grep -q 'Re-using existing connection' '$T_DIR/v' && test \$(grep -c '^\* Connected to' '$T_DIR/v') = 1"
check "three pipelined requests in one write get three answers in order" \
  bash -c "raw 'GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\nGET $WHOAMI HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' && test \"\$(grep '^HTTP/' '$T_DIR/raw' | cut -d' ' -f2 | tr '\n' ' ')\" = '200 404 401 '"
check "HTTP/1.0 gets an HTTP/1.0 answer with the page" \
  bash -c "curl -sk --http1.0 -i '$URL/' >'$T_DIR/h10' && head -1 '$T_DIR/h10' | grep -q '^HTTP/1.0 200' && grep -q '<h1>printer.local</h1>' '$T_DIR/h10'"
check "a bare HTTP/1.0 request without Host is served and closed" \
  bash -c "raw 'GET / HTTP/1.0\r\n\r\n' && grep -q '<h1>printer.local</h1>' '$T_DIR/raw'"
check "HEAD / is 200 without a body" \
  bash -c "test \"\$(curl -sk -I -o /dev/null -w '%{http_code}:%{size_download}' '$URL/')\" = 200:0"
check "unknown paths are 404" test "$(code "$URL/nope")" = 404
check "POST / is 405" test "$(code -X POST "$URL/")" = 405
check "PUT on whoami is 405" test "$(code -X PUT "$URL$WHOAMI")" = 405
check "GET on renew is 405 and says Allow: POST" \
  bash -c "curl -sk -i '$URL$RENEW' | tr -d '\r' >'$T_DIR/405' && head -1 '$T_DIR/405' | grep -q ' 405' && grep -qi '^Allow: POST$' '$T_DIR/405'"
check "a request target over 2048 bytes is 414" \
  test "$(code "$URL/$(head -c 3000 /dev/zero | tr '\0' a)")" = 414
check "a garbage request is 400" bash -c "raw 'GARBAGE\r\n\r\n' && head -1 '$T_DIR/raw' | grep -q '^HTTP/1.[01] 400'"
check "an HTTP/1.1 request without Host is 400" bash -c "raw 'GET / HTTP/1.1\r\n\r\n' && head -1 '$T_DIR/raw' | grep -q ' 400'"
check "an unknown Transfer-Encoding is refused" \
  bash -c "raw 'POST $RENEW HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nxx' && head -1 '$T_DIR/raw' | grep -Eq ' (400|501)'"
check "a Content-Length that is no number is 400" \
  bash -c "raw 'POST $RENEW HTTP/1.1\r\nHost: x\r\nContent-Length: 2x\r\n\r\nxx' && head -1 '$T_DIR/raw' | grep -q ' 400'"
check "two Transfer-Encoding lines are refused" \
  bash -c "raw 'POST $RENEW HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n' && head -1 '$T_DIR/raw' | grep -Eq ' (400|501)'"
check "a pipelined request before a refused one is still answered" \
  bash -c "raw 'GET / HTTP/1.1\r\nHost: x\r\n\r\nPOST $RENEW HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:  GZIP \r\n\r\n' && test \"\$(grep '^HTTP/' '$T_DIR/raw' | cut -d' ' -f2 | tr '\n' ' ')\" = '200 400 '"
check "the device logged the refused framing" grep -q 'Transfer-Encoding or Content-Length that libsoup' "$T_DIR/dev.err"
check "whoami without a client certificate is 401" test "$(code "$URL$WHOAMI")" = 401

# ---- the body bound ----

head -c $((CSR_MAX + 1)) /dev/zero >"$T_DIR/over.bin"
head -c "$CSR_MAX" /dev/zero >"$T_DIR/limit.bin"
head -c 4000000 /dev/zero >"$T_DIR/huge.bin"
check "a Content-Length over 16 KiB is 413" \
  test "$(code -H 'Expect:' --data-binary "@$T_DIR/over.bin" "$URL$RENEW")" = 413
check "with Expect: 100-continue too, before the body is sent" \
  test "$(code -H 'Expect: 100-continue' --data-binary "@$T_DIR/over.bin" "$URL$RENEW")" = 413
check "a 4 MB body is refused with 413 that the client reads (no reset)" \
  test "$(code -H 'Expect:' --data-binary "@$T_DIR/huge.bin" "$URL$RENEW")" = 413
check "a chunked body over 16 KiB is 413" \
  test "$(code -H 'Expect:' -H 'Transfer-Encoding: chunked' --data-binary "@$T_DIR/over.bin" "$URL$RENEW")" = 413
check "a 4 MB chunked body is 413" \
  test "$(code -H 'Expect:' -H 'Transfer-Encoding: chunked' --data-binary "@$T_DIR/huge.bin" "$URL$RENEW")" = 413
check "a chunked body on GET / is bounded too" \
  test "$(code -X GET -H 'Expect:' -H 'Transfer-Encoding: chunked' --data-binary "@$T_DIR/huge.bin" "$URL/")" = 413
check "a body of exactly 16 KiB passes the bound (401: no certificate)" \
  test "$(code -H 'Expect:' --data-binary "@$T_DIR/limit.bin" "$URL$RENEW")" = 401
check "the device logged the refusals" grep -q 'larger than 16384 bytes (413)' "$T_DIR/dev.err"

# ---- renewal over chunked POST ----

check "a client pairs (admin)" \
  bash -c "test \"\$('$PAIR' '$QR_TXT' admin '$T_DIR/c1.key' '$T_DIR/c1.pem')\" = admin"
C1=(--cert "$T_DIR/c1.pem" --key "$T_DIR/c1.key")
check "a chunked body of exactly 16 KiB with a certificate gets past the bound (400: no CSR)" \
  test "$(code "${C1[@]}" -H 'Expect:' -H 'Transfer-Encoding: chunked' --data-binary "@$T_DIR/limit.bin" "$URL$RENEW")" = 400
check "whoami and the page share one connection with the client certificate" \
  bash -c "test \"\$(curl -sk ${C1[*]} -o '$T_DIR/who1' -o /dev/null -w '%{http_code}:%{num_connects} ' '$URL$WHOAMI' '$URL/')\" = '200:1 200:0 ' && grep -q '\"role\":\"admin\"' '$T_DIR/who1'"

openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T_DIR/c2.key" \
  -subj "/CN=settle client" -out "$T_DIR/c2.csr" 2>/dev/null
check "a chunked POST of a PEM CSR renews (200, DER certificate)" \
  bash -c "test \"\$(curl -sk ${C1[*]} -H 'Transfer-Encoding: chunked' -H 'Content-Type: application/pkcs10' --data-binary '@$T_DIR/c2.csr' -o '$T_DIR/c2.der' -w '%{http_code}' '$URL$RENEW')\" = 200"
check "the renewed certificate chains to the device CA and carries the new key" \
  bash -c "openssl x509 -inform der -in '$T_DIR/c2.der' -out '$T_DIR/c2.pem' && openssl verify -CAfile '$STATE/ca.pem' '$T_DIR/c2.pem' && test \"\$(openssl x509 -in '$T_DIR/c2.pem' -noout -pubkey)\" = \"\$(openssl pkey -in '$T_DIR/c2.key' -pubout)\""
C2=(--cert "$T_DIR/c2.pem" --key "$T_DIR/c2.key")
check "whoami accepts the renewed certificate as admin" \
  bash -c "curl -sk ${C2[*]} '$URL$WHOAMI' | grep -q '\"role\":\"admin\"'"
check "whoami refuses the retired certificate (403)" test "$(code "${C1[@]}" "$URL$WHOAMI")" = 403
check "the device logged the renewal" grep -q 'renewed the client certificate' "$T_DIR/dev.err"

# Renewal and whoami on one connection: the old certificate stops counting
# as soon as the new one went out, also on the connection it came over.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T_DIR/c3.key" \
  -subj "/CN=settle client" -outform der -out "$T_DIR/c3.csr" 2>/dev/null
check "renew (DER) then whoami on one connection: 200, then 403 for the retired certificate" \
  bash -c "test \"\$(curl -sk ${C2[*]} -w '%{http_code}:%{num_connects} ' --data-binary '@$T_DIR/c3.csr' -o '$T_DIR/c3.der' '$URL$RENEW' --next -sk ${C2[*]} -o /dev/null -w '%{http_code}:%{num_connects}' '$URL$WHOAMI')\" = '200:1 403:0'"
openssl x509 -inform der -in "$T_DIR/c3.der" -out "$T_DIR/c3.pem" 2>/dev/null || true
C3=(--cert "$T_DIR/c3.pem" --key "$T_DIR/c3.key")

# Two renewals of one certificate at once: exactly one new certificate.
for n in a b; do
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T_DIR/race-$n.key" \
    -subj "/CN=settle client" -out "$T_DIR/race-$n.csr" 2>/dev/null
done
race() {
  local n
  for n in a b; do
    curl -sk "${C3[@]}" --data-binary "@$T_DIR/race-$n.csr" -o "$T_DIR/race-$n.der" \
      -w '%{http_code}\n' "$URL$RENEW" >"$T_DIR/race-$n.code" &
  done
  wait
  sort "$T_DIR/race-a.code" "$T_DIR/race-b.code" | tr '\n' ' '
}
check "two renewals of one certificate at once: one 200, one 403" test "$(race)" = "200 403 "
check "the enrolments hold one certificate for this client, no more" \
  bash -c "test \"\$(grep -c '\"serial\"' '$STATE/enrolments.json')\" = 1"

# ---- timeouts ----

check "an idle connection is closed by the device (idle timeout)" \
  bash -c "timeout 30 openssl s_client -quiet -connect 127.0.0.1:$PORT </dev/null >/dev/null 2>&1; test \$? -ne 124"
check "the device still serves after all this" test "$(code "$URL/")" = 200
# A client keeps its connection open after a request (s_client -quiet
# ignores the end of its input and waits for the device to close the
# connection); SIGTERM must not wait for that.
printf 'GET / HTTP/1.1\r\nHost: x\r\n\r\n' >"$T_DIR/held.in"
openssl s_client -quiet -connect "127.0.0.1:$PORT" <"$T_DIR/held.in" >"$T_DIR/held" 2>/dev/null &
HOLD_PID=$!
at_exit "kill $HOLD_PID 2>/dev/null"
for i in $(seq 50); do grep -q '</html>' "$T_DIR/held" 2>/dev/null && break; sleep 0.1; done
check "a client holds a keep-alive connection after its answer" grep -q '</html>' "$T_DIR/held"
check "SIGTERM stops the device at once, also with that connection open" \
  bash -c "kill -TERM $DEV_PID; for i in \$(seq 30); do kill -0 $DEV_PID 2>/dev/null || exit 0; sleep 0.1; done; exit 1"
check "no sanitizer report in the device log" \
  bash -c "if grep -Eq 'Sanitizer|runtime error' '$T_DIR/dev.err'; then cat '$T_DIR/dev.err'; exit 1; fi"
done_testing
