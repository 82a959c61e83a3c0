#!/usr/bin/env bash
# QR round trips through lib/qr-decode.c (gdk-pixbuf + zbar): a qrencode
# PNG, a photo-like JPEG and PNG (scaled, rotated 7 degrees, noise, blur),
# standard input; and the refusals: a foreign QR code, a file that is not a
# picture, no camera, malformed payloads.  Nothing may be stored.
. "$SOURCE_ROOT/tests/lib.sh"
. "$SOURCE_ROOT/tests/pair/pair-lib.sh"
need_tool qrencode convert zbarimg
: "${QR_DECODE_CHECK:?run through meson test}"

payload='SETTLE:V:1;G:p256;N:printer-3fa9.local;A:192.168.178.20:8443;H:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8;S:AAAQEAYEAUDAOCAJBIFQYDIOB4IBCEQT;;'
printf '%s' "$payload" | qrencode -l M -s 6 -o "$T_DIR/qr.png"
convert "$T_DIR/qr.png" -filter point -resize 560x560 -bordercolor white -border 40 \
  -background white -gravity center -extent 1920x1080 -rotate 7 -gravity center -extent 1920x1080 \
  -attenuate 0.8 +noise Gaussian -blur 0x1.5 -quality 70 "$T_DIR/photo.jpg"
convert "$T_DIR/photo.jpg" "$T_DIR/photo.png"
decodes_to() { [ "$("$QR_DECODE_CHECK" "$1")" = "$payload" ]; }

check "a qrencode PNG decodes to the payload" decodes_to "$T_DIR/qr.png"
check "a photo-like JPEG (scaled, rotated 7 degrees, noise, blur) decodes" decodes_to "$T_DIR/photo.jpg"
check "the same photo as PNG decodes" decodes_to "$T_DIR/photo.png"
check "standard input works" bash -c "[ \"\$('$QR_DECODE_CHECK' - < '$T_DIR/photo.jpg')\" = '$payload' ]"
check "zbarimg agrees on the photo" bash -c "[ \"\$(zbarimg -q --raw '$T_DIR/photo.png' 2>/dev/null)\" = '$payload' ]"

qrencode -o "$T_DIR/wifi.png" 'WIFI:S:home;T:WPA;P:secret;;'
check_fails "a QR code that is not a settle code is named as such" "not a settle pairing code" \
  "$QR_DECODE_CHECK" "$T_DIR/wifi.png"
convert -size 640x480 xc:white "$T_DIR/blank.png"
check_fails "a picture without a QR code says so" "No QR code was found" "$QR_DECODE_CHECK" "$T_DIR/blank.png"
printf 'not a picture' >"$T_DIR/text.png"
check_fails "a file that is not a picture is refused" "not a picture that can be read" \
  "$QR_DECODE_CHECK" "$T_DIR/text.png"
check_fails "a missing file is refused" "Cannot open" "$QR_DECODE_CHECK" "$T_DIR/none.png"

check_fails "settle pair --qr with a foreign QR code stores nothing" "not a settle pairing code" \
  "$SETTLE" pair --qr "$T_DIR/wifi.png" --yes
check_fails "settle pair --camera without a camera says there is none" "There is no camera at /dev/video-settle-none" \
  "$SETTLE" pair --camera /dev/video-settle-none --yes
check_fails "settle pair --camera=/dev/null: not a camera" "could not be opened for video capture" \
  "$SETTLE" pair --camera=/dev/null --yes

# Malformed payloads: each names the problem, nothing is contacted.
bad_payload() { check_fails "malformed payload refused: $1" "$2" "$SETTLE" pair --payload "$3" --yes; }
bad_payload "wrong scheme" "not a valid settle pairing code" 'WIFI:S:x;;'
bad_payload "secret missing" "not a valid settle pairing code" "${payload/;S:AAAQEAYEAUDAOCAJBIFQYDIOB4IBCEQT/}"
bad_payload "short key hash" "not a valid settle pairing code" "${payload/H:AAEC/H:}"
bad_payload "secret of 80 bits" "not a valid settle pairing code" "${payload/S:AAAQEAYEAUDAOCAJBIFQYDIOB4IBCEQT/S:AAAQEAYEAUDAOCAJ}"
bad_payload "version 2" "not a valid settle pairing code" "${payload/V:1/V:2}"
bad_payload "name bank.example" "outside|local namespaces" "${payload/printer-3fa9.local/bank.example}"
check_fails "--payload - reads standard input and refuses garbage" "not a valid settle pairing code" \
  bash -c "echo 'SETTLE:garbage' | '$SETTLE' pair --payload - --yes"
check_fails "two sources at once are a usage error" "exactly one of" \
  "$SETTLE" pair --qr "$T_DIR/qr.png" --payload "$payload"
check_fails "an unknown role is a usage error" "admin, user or guest" \
  "$SETTLE" pair --payload "$payload" --role root
check_fails "a typed code with a typo is caught by its check character" "typo" \
  "$SETTLE" pair --code 000G-40R4-0M30-E209-185G-R38E-1W81-24GK-X --address 127.0.0.1:9 --yes
check "nothing was stored by any of these" nothing_stored

done_testing
