/* sp11-role.h: which of the module's two builds this is.
 *
 * NSS (browsers, the NSS tools) reads trust from CKO_NSS_TRUST and
 * CKO_TRUST objects and ignores CKA_TRUSTED.  GnuTLS, where its trust
 * comes from p11-kit ("pkcs11:" as trust store), reads only CKA_TRUSTED,
 * only from p11-kit trust-policy modules, and takes as issuer only a
 * certificate marked so: it builds no path through an untrusted
 * certificate of the token.  So the build for that role,
 * libsettle-trust-policy.so (packaging/p11-kit/settle.module), marks the
 * cross certificates C CKA_TRUSTED as well: GnuTLS then uses C as the
 * anchor, with C's name constraints and, on this path, C's
 * extendedKeyUsage (serverAuth only).  libsettle-pkcs11.so, the build NSS
 * loads, keeps C untrusted, so that C is only ever an intermediate below
 * its wrapper root (docs/nss-module.md, "p11-kit").
 *
 * The role is fixed when the file is built (SP11_ROLE_TRUST_POLICY): a
 * loader cannot change it.  p11-kit's x-init-reserved cannot carry it,
 * because GnuTLS initialises modules with arguments of its own. */
#pragma once

typedef enum {
  SP11_ROLE_NSS = 0,            /* crosses are intermediates */
  SP11_ROLE_P11_KIT_TRUST_POLICY, /* crosses are anchors too (GnuTLS) */
} sp11_role;

static inline sp11_role
sp11_role_current (void)
{
#ifdef SP11_ROLE_TRUST_POLICY
  return SP11_ROLE_P11_KIT_TRUST_POLICY;
#else
  return SP11_ROLE_NSS;
#endif
}
