# /etc/profile.d/settle.sh: OpenSSL's default verify paths of a login
# session include this user's settle trust snapshot, so that stock curl,
# Python (ssl, urllib), openssl s_client and every other program that uses
# OpenSSL's default paths trust the devices the user paired with settle.
#
# SSL_CERT_DIR is a colon-separated list of OpenSSL hash directories.  The
# system directory (/usr/lib/ssl/certs, OpenSSL's default) stays first; the
# snapshot is added after it by its absolute path, so nothing depends on the
# working directory.  Never write settle: or settle:// here (docs/openssl.md).
# Every certificate in the snapshot is a name-constrained wrapper root, its
# cross certificate, or a pinned peer that cannot issue, marked trusted for
# TLS server authentication only (docs/security.md, "The scope rule").
# A directory that does not exist yet (no pairing so far) costs nothing and
# takes effect as soon as settle writes it.  docs/install.md, docs/openssl.md.
if [ -n "${HOME-}" ]; then
  case ${XDG_DATA_HOME-} in
    /*) settle_trust=$XDG_DATA_HOME/settle/trust ;;
    *) settle_trust=$HOME/.local/share/settle/trust ;;
  esac
  case $settle_trust in
    *:*) ;;   # a colon would split the path: leave SSL_CERT_DIR alone
    /*)
      case ":${SSL_CERT_DIR-}:" in
        *":$settle_trust:"*) ;;
        *)
          SSL_CERT_DIR=${SSL_CERT_DIR:-/usr/lib/ssl/certs}:$settle_trust
          export SSL_CERT_DIR
          ;;
      esac
      ;;
  esac
  unset settle_trust
fi
