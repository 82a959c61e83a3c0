/* settle-cert-shape.h: is this DER one X.509 certificate?
 *
 * The structure of RFC 5280's Certificate (version, serial, algorithms,
 * names, validity, SubjectPublicKeyInfo, unique ids, extensions, the
 * signature) decoded with an OpenSSL ASN.1 template, and nothing after it;
 * the public key is kept as its bit string, not decoded.  OpenSSL 3.0's
 * d2i_X509 decodes the key through its provider decoders, about 0.4 ms
 * per certificate on the machines of docs/performance.md, thirty times
 * this check: the store checks the shape of three certificates for every
 * record it reads, and the full parse stays with the code that uses the
 * certificate (the snapshot writer, the certificate checks). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

gboolean settle_der_is_one_certificate (const guint8 *der, gsize len);

G_END_DECLS
