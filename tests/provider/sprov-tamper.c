/* sprov-tamper.c: the attacker who can write a user's trust snapshot and
 * does it carefully (tests/provider, tests/nss and tests/escape use it).
 *
 *   sprov-tamper INDEX.CBOR ENTRY CERT.DER
 *
 * Replaces the certificate of entry number ENTRY and every field derived
 * from it (der, subject, issuer, serial, id, sha1, md5, sha256, not_after),
 * keeping role, label, record, scope and names as the writer made them, so
 * that the entry is self-consistent: the snapshot reader accepts it, and
 * the NSS trust objects the module derives from it (matched by issuer and
 * serial, and by hash) apply to the swapped certificate: nothing but a
 * check of the certificate itself can notice. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cbor.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

static unsigned char *
read_file (const char *path, size_t *len)
{
  FILE *f = fopen (path, "rb");
  if (f == NULL)
    return NULL;
  unsigned char *buf = malloc (1 << 24);
  *len = buf != NULL ? fread (buf, 1, 1 << 24, f) : 0;
  fclose (f);
  return buf;
}

static int
replace_field (cbor_item_t *entry, const char *name, cbor_item_t *value)
{
  if (value == NULL)
    return 0;
  struct cbor_pair *pairs = cbor_map_handle (entry);
  for (size_t i = 0; i < cbor_map_size (entry); i++) {
    cbor_item_t *key = pairs[i].key;
    if (cbor_isa_string (key) && cbor_string_length (key) == strlen (name)
        && memcmp (cbor_string_handle (key), name, strlen (name)) == 0) {
      cbor_decref (&pairs[i].value);
      pairs[i].value = value;
      return 1;
    }
  }
  cbor_decref (&value);
  return 0;
}

static cbor_item_t *
digest (const char *md, const unsigned char *data, size_t len)
{
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int out_len = 0;
  EVP_MD *type = EVP_MD_fetch (NULL, md, NULL);
  int ok = type != NULL && EVP_Digest (data, len, out, &out_len, type, NULL);
  EVP_MD_free (type);
  return ok ? cbor_build_bytestring (out, out_len) : NULL;
}

static cbor_item_t *
der_item (unsigned char *der, int len)
{
  cbor_item_t *item = len > 0 ? cbor_build_bytestring (der, (size_t) len) : NULL;
  OPENSSL_free (der);
  return item;
}

static int
replace_certificate (cbor_item_t *entry, const unsigned char *der, size_t len)
{
  const unsigned char *p = der;
  X509 *cert = d2i_X509 (NULL, &p, (long) len);
  if (cert == NULL)
    return 0;
  unsigned char *subject = NULL, *issuer = NULL, *serial = NULL;
  int subject_len = i2d_X509_NAME (X509_get_subject_name (cert), &subject);
  int issuer_len = i2d_X509_NAME (X509_get_issuer_name (cert), &issuer);
  int serial_len = i2d_ASN1_INTEGER (X509_get0_serialNumber (cert), &serial);
  const ASN1_BIT_STRING *key = X509_get0_pubkey_bitstr (cert);
  struct tm tm;
  int ok = ASN1_TIME_to_tm (X509_get0_notAfter (cert), &tm);
  time_t not_after = ok ? timegm (&tm) : 0;
  ok = ok && key != NULL
       && replace_field (entry, "der", cbor_build_bytestring (der, len))
       && replace_field (entry, "subject", der_item (subject, subject_len))
       && replace_field (entry, "issuer", der_item (issuer, issuer_len))
       && replace_field (entry, "serial", der_item (serial, serial_len))
       && replace_field (entry, "id", digest ("SHA1", ASN1_STRING_get0_data (key),
                                               (size_t) ASN1_STRING_length (key)))
       && replace_field (entry, "sha1", digest ("SHA1", der, len))
       && replace_field (entry, "md5", digest ("MD5", der, len))
       && replace_field (entry, "sha256", digest ("SHA256", der, len))
       && replace_field (entry, "not_after", cbor_build_uint64 ((uint64_t) not_after));
  X509_free (cert);
  return ok;
}

static cbor_item_t *
entries_of (cbor_item_t *index)
{
  struct cbor_pair *pairs = cbor_map_handle (index);
  for (size_t i = 0; i < cbor_map_size (index); i++)
    if (cbor_isa_string (pairs[i].key) && cbor_string_length (pairs[i].key) == 7
        && memcmp (cbor_string_handle (pairs[i].key), "entries", 7) == 0)
      return pairs[i].value;
  return NULL;
}

int
main (int argc, char **argv)
{
  if (argc != 4) {
    fprintf (stderr, "usage: sprov-tamper INDEX.CBOR ENTRY CERT.DER\n");
    return 2;
  }
  size_t ilen = 0, dlen = 0;
  unsigned char *index_bytes = read_file (argv[1], &ilen);
  unsigned char *der = read_file (argv[3], &dlen);
  struct cbor_load_result result;
  cbor_item_t *index = index_bytes != NULL ? cbor_load (index_bytes, ilen, &result) : NULL;
  cbor_item_t *entries = index != NULL && cbor_isa_map (index) ? entries_of (index) : NULL;
  size_t n = (size_t) strtoul (argv[2], NULL, 10);
  if (entries == NULL || der == NULL || n >= cbor_array_size (entries)
      || !replace_certificate (cbor_array_handle (entries)[n], der, dlen)) {
    fprintf (stderr, "sprov-tamper: cannot rewrite %s\n", argv[1]);
    return 1;
  }
  unsigned char *out = NULL;
  size_t out_size = 0;
  size_t out_len = cbor_serialize_alloc (index, &out, &out_size);
  FILE *f = fopen (argv[1], "wb");
  int ok = f != NULL && fwrite (out, 1, out_len, f) == out_len;
  if (f != NULL)
    ok = fclose (f) == 0 && ok;
  free (out);
  cbor_decref (&index);
  free (index_bytes);
  free (der);
  return ok ? 0 : 1;
}
