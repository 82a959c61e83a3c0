/* sp11-pkcs11.h: the PKCS#11 definitions the module is written against.
 *
 * Base: p11-kit's maintained <p11-kit/pkcs11.h> (v2.40) and <p11-kit/pkcs11x.h>
 * (NSS vendor classes, attributes and trust values).  NSS's own <pkcs11n.h>
 * cannot be combined with p11-kit's header (both define CK_GCM_PARAMS), so the
 * NSS constants come from p11-kit, which carries the same values.
 *
 * Added here, because the installed headers predate them:
 *  - PKCS#11 3.2 trust objects (CKO_TRUST and its attributes and values), with
 *    the identifiers OASIS allocated; named SP11_CKA_PKCS_TRUST_* because
 *    p11-kit already uses CKA_TRUST_* for the NSS vendor attributes (NSS does
 *    the same and calls them CKA_PKCS_TRUST_*).
 *  - p11-kit's retired trust-assertion objects, still read by GNOME (gcr)
 *    through p11-kit-trust.
 *  - The PKCS#11 3.0 interface structure for C_GetInterface. */
#pragma once

#include <p11-kit/pkcs11.h>
#include <p11-kit/pkcs11x.h>

/* PKCS#11 3.2, section 4.7 (trust objects). */
#define SP11_CKO_TRUST 0x0000000bUL
#define SP11_CKA_PKCS_TRUST_SERVER_AUTH 0x0000062cUL
#define SP11_CKA_PKCS_TRUST_CLIENT_AUTH 0x0000062dUL
#define SP11_CKA_PKCS_TRUST_CODE_SIGNING 0x0000062eUL
#define SP11_CKA_PKCS_TRUST_EMAIL_PROTECTION 0x0000062fUL
#define SP11_CKA_PKCS_TRUST_IPSEC_IKE 0x00000630UL
#define SP11_CKA_PKCS_TRUST_TIME_STAMPING 0x00000631UL
#define SP11_CKA_PKCS_TRUST_OCSP_SIGNING 0x00000632UL
#define SP11_CKA_HASH_OF_CERTIFICATE 0x00000635UL
#define SP11_CKT_TRUST_UNKNOWN 0x00000000UL
#define SP11_CKT_TRUSTED 0x00000001UL
#define SP11_CKT_TRUST_ANCHOR 0x00000002UL
#define SP11_CKT_NOT_TRUSTED 0x00000003UL
#define SP11_CKT_TRUST_MUST_VERIFY_TRUST 0x00000004UL

/* p11-kit trust assertions (p11-kit common/pkcs11i.h). */
#define SP11_CKO_X_TRUST_ASSERTION (CKO_X_VENDOR + 100)
#define SP11_CKA_X_ASSERTION_TYPE (CKA_X_VENDOR + 1)
#define SP11_CKA_X_CERTIFICATE_VALUE (CKA_X_VENDOR + 2)
#define SP11_CKA_X_PURPOSE (CKA_X_VENDOR + 3)
#define SP11_CKA_X_PEER (CKA_X_VENDOR + 4)
#define SP11_CKT_X_PINNED_CERTIFICATE 2UL
#define SP11_CKT_X_ANCHORED_CERTIFICATE 3UL

/* PKCS#11 3.0 CK_INTERFACE (section 3.6). */
typedef struct {
  CK_UTF8CHAR *pInterfaceName;
  CK_VOID_PTR pFunctionList;
  CK_FLAGS flags;
} SP11_CK_INTERFACE;

/* id-kp-serverAuth, as p11-kit writes CKA_X_PURPOSE. */
#define SP11_OID_SERVER_AUTH "1.3.6.1.5.5.7.3.1"
