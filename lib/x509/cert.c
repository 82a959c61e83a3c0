/* cert.c: parsing certificates and deciding whether one may be trusted as a
 * device or referee CA (to be wrapped) or as a pinned peer (settle-cert.h).
 *
 * What a pinned peer may be is the anchor rule's (settle-anchor-rule.h),
 * the same code the snapshot writer, the provider and the module run;
 * this file adds only what needs GLib or the clock (the IDNA round trip,
 * validity, key strength) and says each refusal in the helper's words. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "settle-anchor-rule.h"
#include "settle-cert.h"
#include "settle-error.h"
#include "settle-scope.h"

/* No real certificate comes near this; the bound keeps a hostile file or
 * peer from making us parse megabytes. */
#define CERT_INPUT_MAX (64 * 1024)
#define RSA_MIN_BITS 2048

static gboolean
cert_error (GError **error, const char *format, ...) G_GNUC_PRINTF (2, 3);

static gboolean
cert_error (GError **error, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error_literal (error, SETTLE_ERROR, SETTLE_ERROR_CERT, message);
  return FALSE;
}

/* Where PEM text starts after leading whitespace, or -1 when the data is
 * not PEM.  OpenSSL only finds a BEGIN line at the start of a line, so
 * text pasted with indentation is handed over from its marker on. */
static gssize
pem_start (const guint8 *data, gsize len)
{
  static const char marker[] = "-----BEGIN";
  gsize i = 0;
  while (i < len && g_ascii_isspace (data[i]))
    i++;
  if (len - i >= sizeof marker - 1 && memcmp (data + i, marker, sizeof marker - 1) == 0)
    return (gssize) i;
  return -1;
}

/* Reads the first CERTIFICATE block (owned) and refuses a second one:
 * a file that is supposed to name one anchor must not smuggle in more. */
static X509 *
parse_pem (const guint8 *data, gsize len, GError **error)
{
  BIO *bio = BIO_new_mem_buf (data, (int) len);
  if (bio == NULL)
    {
      cert_error (error, "Out of memory while reading the certificate.");
      return NULL;
    }
  X509 *cert = PEM_read_bio_X509 (bio, NULL, NULL, NULL);
  if (cert == NULL)
    {
      BIO_free (bio);
      cert_error (error, "The PEM data holds no readable CERTIFICATE block.");
      return NULL;
    }
  X509 *second = PEM_read_bio_X509 (bio, NULL, NULL, NULL);
  BIO_free (bio);
  ERR_clear_error ();  /* the expected "no start line" of the second read */
  if (second != NULL)
    {
      X509_free (second);
      X509_free (cert);
      cert_error (error, "The PEM data holds more than one certificate; give exactly one.");
      return NULL;
    }
  return cert;
}

static X509 *
parse_der (const guint8 *data, gsize len, GError **error)
{
  const unsigned char *p = data;
  X509 *cert = d2i_X509 (NULL, &p, (long) len);
  if (cert == NULL)
    {
      ERR_clear_error ();
      cert_error (error, "The data is neither a PEM certificate nor a DER certificate.");
      return NULL;
    }
  if (p != data + len)
    {
      X509_free (cert);
      cert_error (error, "The DER certificate is followed by unexpected extra bytes.");
      return NULL;
    }
  return cert;
}

X509 *
settle_cert_parse (const guint8 *data, gsize len, GError **error)
{
  if (data == NULL || len == 0)
    {
      cert_error (error, "The certificate data is empty.");
      return NULL;
    }
  if (len > CERT_INPUT_MAX)
    {
      cert_error (error, "The certificate data is larger than %d bytes, too large to be one certificate.",
                  CERT_INPUT_MAX);
      return NULL;
    }
  gssize start = pem_start (data, len);
  if (start >= 0)
    return parse_pem (data + start, len - (gsize) start, error);
  return parse_der (data, len, error);
}

/* Reads at most CERT_INPUT_MAX + 1 bytes so that an oversized file is
 * detected without reading all of it (owned result). */
static GBytes *
read_bounded (const char *path, GError **error)
{
  int fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_CERT, "Cannot open certificate file %s: %s.",
                   path, g_strerror (saved));
      return NULL;
    }
  guint8 *buffer = g_malloc (CERT_INPUT_MAX + 1);
  gsize filled = 0;
  while (filled < CERT_INPUT_MAX + 1)
    {
      ssize_t n = read (fd, buffer + filled, CERT_INPUT_MAX + 1 - filled);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved = errno;
          close (fd);
          g_free (buffer);
          g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_CERT, "Cannot read certificate file %s: %s.",
                       path, g_strerror (saved));
          return NULL;
        }
      if (n == 0)
        break;
      filled += (gsize) n;
    }
  close (fd);
  return g_bytes_new_take (buffer, filled);
}

X509 *
settle_cert_load_file (const char *path, GError **error)
{
  g_autoptr (GBytes) bytes = read_bounded (path, error);
  if (bytes == NULL)
    return NULL;
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  g_autoptr (GError) local_error = NULL;
  X509 *cert = settle_cert_parse (data, len, &local_error);
  if (cert == NULL)
    g_set_error (error, SETTLE_ERROR, SETTLE_ERROR_CERT, "%s: %s", path, local_error->message);
  return cert;
}

static gboolean
check_validity (X509 *cert, GError **error)
{
  if (X509_cmp_current_time (X509_get0_notBefore (cert)) >= 0)
    return cert_error (error, "The certificate is not valid yet (its notBefore lies in the future).");
  if (X509_cmp_current_time (X509_get0_notAfter (cert)) <= 0)
    return cert_error (error, "The certificate has expired.");
  return TRUE;
}

static gboolean
ec_curve_is_allowed (EVP_PKEY *key)
{
  static const char *const allowed[] = { "prime256v1", "secp384r1", "secp521r1" };
  char group[64];
  if (!EVP_PKEY_get_group_name (key, group, sizeof group, NULL))
    return FALSE;
  for (gsize i = 0; i < G_N_ELEMENTS (allowed); i++)
    if (strcmp (group, allowed[i]) == 0)
      return TRUE;
  return FALSE;
}

/* Only keys that every browser and OpenSSL accept and that are strong
 * today: RSA >= 2048, the NIST curves, Ed25519. */
static gboolean
check_key_strength (X509 *cert, GError **error)
{
  EVP_PKEY *key = X509_get0_pubkey (cert);  /* borrowed */
  if (key == NULL)
    {
      ERR_clear_error ();
      return cert_error (error, "The certificate's public key cannot be read.");
    }
  if (EVP_PKEY_is_a (key, "RSA"))
    {
      int bits = EVP_PKEY_get_bits (key);
      if (bits < RSA_MIN_BITS)
        return cert_error (error, "The certificate has a %d-bit RSA key; at least %d bits are required.",
                           bits, RSA_MIN_BITS);
      return TRUE;
    }
  if (EVP_PKEY_is_a (key, "EC"))
    {
      if (ec_curve_is_allowed (key))
        return TRUE;
      char group[64] = "explicit parameters";
      EVP_PKEY_get_group_name (key, group, sizeof group, NULL);
      ERR_clear_error ();
      return cert_error (error, "The certificate's EC key uses curve %s; only P-256, P-384 and P-521 are accepted.",
                         group);
    }
  if (EVP_PKEY_is_a (key, "ED25519"))
    return TRUE;
  const char *name = EVP_PKEY_get0_type_name (key);
  return cert_error (error, "The certificate's %s key is not accepted; use RSA (2048 bits or more), P-256, P-384, P-521 or Ed25519.",
                     name ? name : "unknown");
}

/* OpenSSL flags malformed extensions while caching them; a certificate
 * whose extensions cannot be read must not be judged by them. */
static gboolean
check_extensions_parse (X509 *cert, GError **error)
{
  if (X509_get_extension_flags (cert) & EXFLAG_INVALID)
    {
      ERR_clear_error ();
      return cert_error (error, "The certificate has malformed extensions.");
    }
  return TRUE;
}

static gboolean
is_ca (X509 *cert)
{
  BASIC_CONSTRAINTS *bc = X509_get_ext_d2i (cert, NID_basic_constraints, NULL, NULL);
  gboolean ca = bc != NULL && bc->ca;
  BASIC_CONSTRAINTS_free (bc);
  return ca;
}

gboolean
settle_ca_check (X509 *ca, GError **error)
{
  if (ca == NULL)
    return cert_error (error, "No certificate was given.");
  if (!check_extensions_parse (ca, error))
    return FALSE;
  if (!is_ca (ca))
    return cert_error (error, "The certificate is not a CA (it lacks basicConstraints CA:TRUE).");
  if ((X509_get_extension_flags (ca) & EXFLAG_KUSAGE)
      && !(X509_get_key_usage (ca) & KU_KEY_CERT_SIGN))
    return cert_error (error, "The CA certificate's keyUsage does not allow signing certificates.");
  if (!check_validity (ca, error))
    return FALSE;
  return check_key_strength (ca, error);
}

/* The helper's own test of each DNS name that passed the anchor rule: the
 * IDNA round trip of `xn--` labels, which only GLib can make
 * (settle_name_normalize).  Keeps the refusal for the message. */
static int
judge_with_idna (const char *name, void *data)
{
  GError **refusal = data;
  g_autofree char *canonical = settle_name_normalize (name, TRUE, refusal);
  return canonical != NULL;
}

/* The names part of the anchor rule, in its one walk over the
 * subjectAltNames (settle_anchor_rule_peer_names), told in the helper's
 * words: a refused DNS name gets settle_name_normalize's sentence, which
 * says what to write instead. */
static gboolean
check_peer_names (X509 *leaf, GError **error)
{
  char name[SETTLE_NAME_MAX + 1];
  g_autoptr (GError) refusal = NULL;
  settle_peer_names_verdict verdict = settle_anchor_rule_peer_names (leaf, judge_with_idna, &refusal,
                                                                     name, sizeof name);
  switch (verdict)
    {
    case SETTLE_PEER_NAMES_OK:
      return TRUE;
    case SETTLE_PEER_NAMES_IP_ADDRESS:
      return cert_error (error, "The certificate names an IP address; a pinned peer may carry DNS names only.");
    case SETTLE_PEER_NAMES_NOT_DNS:
      return cert_error (error, "The certificate carries a subjectAltName that is not a DNS name (a mailbox, "
                         "URI or other form); a pinned peer may carry DNS names only.");
    case SETTLE_PEER_NAMES_MALFORMED:
      return cert_error (error, "The certificate has a malformed DNS name.");
    case SETTLE_PEER_NAMES_NONE:
      return cert_error (error, "The certificate has no DNS name in subjectAltName; a pinned peer needs one.");
    case SETTLE_PEER_NAMES_JUDGE:
      if (refusal != NULL)
        return cert_error (error, "%s", refusal->message);
      break;
    case SETTLE_PEER_NAMES_SYNTAX:
    case SETTLE_PEER_NAMES_OUTSIDE:
    case SETTLE_PEER_NAMES_NAMESPACE:
      {
        /* The anchor rule's checks are a part of settle_name_normalize's,
         * so it refuses the same name, in its own words. */
        g_autofree char *canonical = settle_name_normalize (name, TRUE, &refusal);
        if (canonical == NULL)
          return cert_error (error, "%s", refusal->message);
      }
      break;
    }
  return cert_error (error, "The certificate %s.", settle_anchor_rule_peer_names_explain (verdict));
}

gboolean
settle_peer_check (X509 *leaf, GError **error)
{
  if (leaf == NULL)
    return cert_error (error, "No certificate was given.");
  if (!check_extensions_parse (leaf, error))
    return FALSE;
  /* Browsers and OpenSSL take a pinned peer as an anchor: it must be one
   * that no verifier would ever use as an issuer (settle-anchor-rule.h). */
  char why[160];
  if (!settle_anchor_rule_peer_cannot_issue (leaf, why, sizeof why))
    return cert_error (error, "The certificate %s; a pinned peer must be an end-entity certificate that "
                       "cannot issue others (X.509 v3 with basicConstraints CA:FALSE).", why);
  if (!check_peer_names (leaf, error))
    return FALSE;
  if (!settle_anchor_rule_peer_purposes (leaf, why, sizeof why))
    return cert_error (error, "The certificate %s; a pinned peer is trusted as a TLS server only, and its "
                       "certificate must be for nothing else.", why);
  if (!check_validity (leaf, error))
    return FALSE;
  return check_key_strength (leaf, error);
}

GBytes *
settle_cert_to_der (X509 *cert)
{
  unsigned char *der = NULL;
  int len = i2d_X509 (cert, &der);
  if (len <= 0)
    return NULL;
  GBytes *bytes = g_bytes_new (der, (gsize) len);
  OPENSSL_free (der);
  return bytes;
}

gint64
settle_cert_not_after (X509 *cert)
{
  struct tm tm;
  if (!ASN1_TIME_to_tm (X509_get0_notAfter (cert), &tm))
    return 0;
  return (gint64) timegm (&tm);
}

char *
settle_cert_subject_text (X509 *cert)
{
  char *openssl_text = X509_NAME_oneline (X509_get_subject_name (cert), NULL, 0);
  if (openssl_text == NULL)
    return g_strdup ("(unreadable subject)");
  char *text = g_strdup (openssl_text);
  OPENSSL_free (openssl_text);  /* OpenSSL's allocator, not GLib's */
  return text;
}

char **
settle_cert_dns_names (X509 *cert)
{
  GPtrArray *out = g_ptr_array_new ();
  GENERAL_NAMES *names = X509_get_ext_d2i (cert, NID_subject_alt_name, NULL, NULL);
  for (int i = 0; i < sk_GENERAL_NAME_num (names); i++)
    {
      const GENERAL_NAME *gn = sk_GENERAL_NAME_value (names, i);
      if (gn->type != GEN_DNS)
        continue;
      const char *text = (const char *) ASN1_STRING_get0_data (gn->d.dNSName);
      int len = ASN1_STRING_length (gn->d.dNSName);
      /* A name with an embedded NUL would read as a different, shorter name. */
      if (len <= 0 || memchr (text, '\0', (size_t) len) != NULL)
        continue;
      g_ptr_array_add (out, g_strndup (text, (gsize) len));
    }
  GENERAL_NAMES_free (names);
  g_ptr_array_add (out, NULL);
  return (char **) g_ptr_array_free (out, FALSE);
}
