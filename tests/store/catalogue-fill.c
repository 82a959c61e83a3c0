/* catalogue-fill.c: fills a file store with one record of every kind and
 * shape `settle list` shows differently, for store-catalogue.sh (the
 * catalogue must give the very same output as the records).
 *
 *   catalogue-fill STORE_DIR           device CA (role, client certificate
 *                                      and key), referee CA, pinned peer,
 *                                      manufacturer CA, an expired CA,
 *                                      self-certifying names that match and
 *                                      one that does not, a portable device,
 *                                      labels with characters the catalogue
 *                                      escapes, two records with one label
 *   catalogue-fill STORE_DIR LABEL     one more device CA labelled LABEL, serving added.local
 *   catalogue-fill STORE_DIR --change  adds a record and removes it: a change,
 *                                      after which the store rewrites its
 *                                      catalogue as after any other
 *
 * (Through the store, not `settle`: the test certificates are no CAs, so
 * `settle` would refuse to write a trust snapshot of them.) */
#include <stdio.h>
#include <string.h>

#include <openssl/x509.h>

#include "settle-self-cert.h"
#include "settle-store.h"
#include "store-test-records.h"

static void
add (SettleStore *store, SettleRecord *record)
{
  g_autoptr (GError) error = NULL;
  if (!settle_store_add (store, record, &error))
    g_error ("%s: %s", record->label, error->message);
  settle_record_free (record);
}

static void
make_unwrapped (SettleRecord *record, SettleKind kind)
{
  record->kind = kind;
  g_clear_pointer (&record->wrapper_root_der, g_bytes_unref);
  g_clear_pointer (&record->cross_der, g_bytes_unref);
}

/* `prefix`-<hash of the key of `der`>.local, owned. */
static char *
self_certifying_name (const char *prefix, GBytes *der)
{
  const guint8 *p = g_bytes_get_data (der, NULL);
  X509 *cert = d2i_X509 (NULL, &p, (long) g_bytes_get_size (der));
  char name[256];
  g_assert_true (cert != NULL && settle_self_cert_make_name (prefix, "local", cert, name, sizeof name));
  X509_free (cert);
  return g_strdup (name);
}

static void
fill (SettleStore *store)
{
  g_autoptr (GError) error = NULL;
  SettleRecord *device = store_test_record_new ("Living room printer", "printer.local");
  device->role = g_strdup ("print-admin");
  device->client_cert_der = store_test_cert_der ("client");
  device->address = g_strdup ("printer.local:8443");
  g_autoptr (GBytes) key = store_test_client_key_pem ();
  if (!settle_store_put_client_key (store, device->fingerprint, key, &error))
    g_error ("client key: %s", error->message);
  add (store, device);

  SettleRecord *referee = store_test_record_new ("Home referee", NULL);
  referee->kind = SETTLE_KIND_REFEREE_CA;
  g_strfreev (referee->scope);
  referee->scope = g_strsplit ("home.arpa,local", ",", -1);
  add (store, referee);

  SettleRecord *peer = store_test_record_new ("NAS", "nas.local");
  make_unwrapped (peer, SETTLE_KIND_PINNED_PEER);
  g_strfreev (peer->scope);
  peer->scope = g_new0 (char *, 1);
  add (store, peer);

  SettleRecord *maker = store_test_record_new ("Acme devices", NULL);
  make_unwrapped (maker, SETTLE_KIND_MANUFACTURER_CA);
  add (store, maker);

  SettleRecord *expired = store_test_record_new ("Old camera", "camera.local");
  expired->created -= 400 * 24 * 3600;
  expired->expires = expired->created + 30 * 24 * 3600;
  add (store, expired);

  SettleRecord *hashed = store_test_record_new ("Hashed names", NULL);
  g_strfreev (hashed->names);
  hashed->names = g_new0 (char *, 5);
  hashed->names[0] = self_certifying_name ("cam", hashed->anchor_der);
  hashed->names[1] = g_strdup ("plain.local");
  /* Shaped like one, but one digit of the hash is another (the test
   * certificates all share one key). */
  hashed->names[2] = self_certifying_name ("fake", hashed->anchor_der);
  hashed->names[2][5] = hashed->names[2][5] == 'a' ? 'b' : 'a';
  hashed->names[3] = self_certifying_name (NULL, hashed->anchor_der);
  add (store, hashed);

  SettleRecord *portable = store_test_record_new ("Travel router", "router.local");
  portable->discovery_key = g_malloc0 (SETTLE_RECORD_DISCOVERY_KEY_LEN);
  memset (portable->discovery_key, 7, SETTLE_RECORD_DISCOVERY_KEY_LEN);
  portable->discovery_period = 900;
  add (store, portable);

  /* The catalogue escapes '\\' and ','; labels hold no control character. */
  add (store, store_test_record_new ("Büro, \\\\share\\x41 \"q\" ü€😀", "buero.local"));
  add (store, store_test_record_new ("Twin", "twin-a.local"));
  add (store, store_test_record_new ("Twin", "twin-b.local"));
}

int
main (int argc, char **argv)
{
  if (argc != 2 && argc != 3)
    {
      fprintf (stderr, "usage: catalogue-fill STORE_DIR [LABEL]\n");
      return 2;
    }
  g_autoptr (GError) error = NULL;
  g_autoptr (SettleStore) store = settle_store_open_file (argv[1], &error);
  if (store == NULL)
    g_error ("%s", error->message);
  if (argc == 3 && strcmp (argv[2], "--change") == 0)
    {
      SettleRecord *passing = store_test_record_new ("passing", NULL);
      g_autofree char *fingerprint = g_strdup (passing->fingerprint);
      add (store, passing);
      if (!settle_store_remove (store, fingerprint, &error))
        g_error ("remove: %s", error->message);
    }
  else if (argc == 3)
    add (store, store_test_record_new (argv[2], "added.local"));
  else
    fill (store);
  return 0;
}
