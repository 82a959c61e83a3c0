/* sprov-tamper.c: plays the attacker who can write a user's snapshot.
 *
 *   sprov-tamper INDEX.CBOR ENTRY CERT.DER
 *
 * Replaces the "der" and "subject" of entry number ENTRY in the snapshot
 * index with those of CERT.DER and leaves every other field (role, scope,
 * names) as the writer made it, so that the snapshot reader accepts it
 * and only the provider's own certificate check can notice. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cbor.h>
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
subject_of (const unsigned char *der, size_t len)
{
  X509 *cert = d2i_X509 (NULL, &der, (long) len);
  unsigned char *name = NULL;
  int name_len = cert != NULL ? i2d_X509_NAME (X509_get_subject_name (cert), &name) : -1;
  cbor_item_t *item = name_len > 0 ? cbor_build_bytestring (name, (size_t) name_len) : NULL;
  OPENSSL_free (name);
  X509_free (cert);
  return item;
}

static int
replace_certificate (cbor_item_t *entry, const unsigned char *der, size_t len)
{
  cbor_item_t *subject = subject_of (der, len);
  return subject != NULL && replace_field (entry, "subject", subject)
         && replace_field (entry, "der", cbor_build_bytestring (der, len));
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
  if (argc != 4)
    return 2;
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
