#!/usr/bin/env bash
# `meson install` (into a staging directory) puts each file where the
# program that reads it looks, as that program's pkg-config file says, and
# the installed copies name the installed paths: the p11-kit module file
# the module's absolute path, the user units the installed settle.  A test
# of the layout, not of an installed system (that needs the package).
. "$SOURCE_ROOT/tests/lib.sh"
need_tool meson pkg-config
DEST=$T_DIR/dest
check "meson install --destdir succeeds" \
  meson install -C "$BUILD_ROOT" --destdir "$DEST" --no-rebuild --quiet
PREFIX=$(meson introspect "$BUILD_ROOT" --buildoptions | python3 -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"][0])')
P11_DIR=$(pkg-config --variable p11_module_path p11-kit-1)
P11_CONF=$(pkg-config --variable p11_module_configs p11-kit-1)
OSSL_DIR=$(pkg-config --variable modulesdir libcrypto)
UNIT_DIR=$(pkg-config --variable systemduserunitdir systemd)

check "the PKCS#11 module is where p11-kit looks ($P11_DIR)" test -f "$DEST$P11_DIR/libsettle-pkcs11.so"
check "... and its trust-policy build beside it" test -f "$DEST$P11_DIR/libsettle-trust-policy.so"
check "the p11-kit module file is where p11-kit reads ($P11_CONF)" test -f "$DEST$P11_CONF/settle.module"
check "it names the module by its absolute installed path" \
  grep -qx "module: $P11_DIR/libsettle-trust-policy.so" "$DEST$P11_CONF/settle.module"
check "it is a trust-policy module (for GnuTLS)" grep -qx "trust-policy: yes" "$DEST$P11_CONF/settle.module"
check "kept out of p11-kit's trust tool and the proxy" grep -qx "disable-in: trust, p11-kit-proxy" "$DEST$P11_CONF/settle.module"
check "the OpenSSL provider is in libcrypto's modules directory ($OSSL_DIR)" test -f "$DEST$OSSL_DIR/settle.so"
check "the documented OpenSSL configurations exist" \
  test -f "$DEST$PREFIX/share/settle/openssl/settle.cnf" -a -f "$DEST$PREFIX/share/settle/openssl/settle-system.cnf"
check "the user units are in systemd's user unit directory ($UNIT_DIR)" \
  test -f "$DEST$UNIT_DIR/settle-refresh.service" -a -f "$DEST$UNIT_DIR/settle-refresh.timer"
check "the service runs the installed settle" \
  grep -qx "ExecStart=-$PREFIX/bin/settle refresh --all" "$DEST$UNIT_DIR/settle-refresh.service"
check "settle, settle-device and the signer are installed" \
  test -x "$DEST$PREFIX/bin/settle" -a -x "$DEST$PREFIX/bin/settle-device" -a -x "$DEST$PREFIX/libexec/settle-signer"
check "the man pages are installed" \
  test -f "$DEST$PREFIX/share/man/man1/settle.1" -a -f "$DEST$PREFIX/share/man/man1/settle-device.1" \
       -a -f "$DEST$PREFIX/share/man/man5/settle-formats.5"
check "settle(1) renders" bash -c "man -l '$DEST$PREFIX/share/man/man1/settle.1' 2>/dev/null | grep -q 'settle - trust devices'"
check "bash and zsh completions are installed" \
  bash -c "ls '$DEST'/usr/share/bash-completion/completions/settle '$DEST$PREFIX'/share/bash-completion/completions/settle 2>/dev/null | grep -q . && test -f '$DEST$PREFIX/share/zsh/vendor-completions/_settle'"
check "the docs and schemas are installed" \
  test -f "$DEST$PREFIX/share/doc/settle/install.md" -a -f "$DEST$PREFIX/share/settle/schema/record.schema.json"
check "nothing is installed outside the prefix but the four system paths" bash -c "
  cd '$DEST' && find . -type f | sed 's|^\\.||' | grep -v '^$PREFIX/' |
  grep -v -e '^$P11_DIR/' -e '^$P11_CONF/' -e '^$OSSL_DIR/' -e '^$UNIT_DIR/' -e '^/usr/share/bash-completion/' \\
         -e '^/etc/profile.d/settle.sh\$' | (! grep .)"
done_testing
