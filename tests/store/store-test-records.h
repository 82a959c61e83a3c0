/* store-test-records.h: records with real certificates for the store
 * tests.  Every certificate is freshly made with OpenSSL (a new serial
 * each time), so every record has its own fingerprint. */
#pragma once

#include <glib.h>

#include "settle-record.h"

/* An owned DER X.509 certificate, self-signed, CN = `common_name`. */
GBytes *store_test_cert_der (const char *common_name);

/* An owned device-ca record labelled `label`, serving `name` (may be NULL),
 * scoped to home.arpa, with wrapper root and cross certificates. */
SettleRecord *store_test_record_new (const char *label, const char *name);

/* An owned PKCS#8 PEM private key (fresh P-256). */
GBytes *store_test_client_key_pem (void);

/* Owned temporary directory for one test; removed by store_test_rmdir. */
char *store_test_tmpdir (void);
void store_test_rmdir (const char *dir);
