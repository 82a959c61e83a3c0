/* sp11-check.c: the module through its PKCS#11 interface (GLib g_test).
 *
 * Run by nss-module.sh, which prepares two snapshot generations and a
 * symlink the module reads through:
 *   SETTLE_TRUST_DIR     the symlink (points at SP11_GEN_A at start)
 *   SP11_GEN_A           one wrapped device CA for printer.local (root + cross)
 *   SP11_GEN_B           one wrapped device CA for router.home.arpa
 *   TEST_PKCS11_MODULE   the module to dlopen
 * /threads is also run alone under valgrind's helgrind. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <p11-kit/pkcs11.h>
#include <p11-kit/pkcs11x.h>

#define CKO_TRUST_3_2 0x0000000bUL
#define CKA_TRUST_SERVER_AUTH_3_2 0x0000062cUL
#define CKT_TRUST_ANCHOR_3_2 2UL

static CK_FUNCTION_LIST_PTR p11;

typedef CK_RV (*GetFunctionListFn) (CK_FUNCTION_LIST_PTR_PTR);

static void
point_trust_at (const char *env_gen)
{
  const char *link = g_getenv ("SETTLE_TRUST_DIR");
  g_autofree char *tmp = g_strconcat (link, ".new", NULL);
  g_unlink (tmp);
  g_assert_cmpint (symlink (g_getenv (env_gen), tmp), ==, 0);
  g_assert_cmpint (rename (tmp, link), ==, 0);
}

static void
wait_past_rate_limit (void)
{
  g_usleep (150 * 1000);
}

static void
init_module (void)
{
  CK_C_INITIALIZE_ARGS args = { 0 };
  args.flags = CKF_OS_LOCKING_OK;
  g_assert_cmpuint (p11->C_Initialize (&args), ==, CKR_OK);
}

static CK_SESSION_HANDLE
open_session (void)
{
  CK_SESSION_HANDLE s = 0;
  g_assert_cmpuint (p11->C_OpenSession (1, CKF_SERIAL_SESSION, NULL, NULL, &s), ==, CKR_OK);
  return s;
}

static CK_ULONG
find (CK_SESSION_HANDLE s, CK_ATTRIBUTE *tmpl, CK_ULONG n, CK_OBJECT_HANDLE *out, CK_ULONG max)
{
  CK_ULONG count = 0;
  g_assert_cmpuint (p11->C_FindObjectsInit (s, tmpl, n), ==, CKR_OK);
  g_assert_cmpuint (p11->C_FindObjects (s, out, max, &count), ==, CKR_OK);
  g_assert_cmpuint (p11->C_FindObjectsFinal (s), ==, CKR_OK);
  return count;
}

static CK_OBJECT_HANDLE
find_one_by_label (CK_SESSION_HANDLE s, CK_OBJECT_CLASS klass, const char *label)
{
  CK_ATTRIBUTE tmpl[] = {
    { CKA_CLASS, &klass, sizeof klass },
    { CKA_LABEL, (void *) label, strlen (label) },
  };
  CK_OBJECT_HANDLE h[4];
  g_assert_cmpuint (find (s, tmpl, 2, h, 4), ==, 1);
  return h[0];
}

static CK_ULONG
get_ulong (CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type)
{
  CK_ULONG v = 0;
  CK_ATTRIBUTE a = { type, &v, sizeof v };
  g_assert_cmpuint (p11->C_GetAttributeValue (s, h, &a, 1), ==, CKR_OK);
  return v;
}

static void
test_info (void)
{
  init_module ();
  CK_SLOT_ID slots[2];
  CK_ULONG n = 0;
  g_assert_cmpuint (p11->C_GetSlotList (CK_TRUE, NULL, &n), ==, CKR_OK);
  g_assert_cmpuint (n, ==, 2);
  n = 1;
  g_assert_cmpuint (p11->C_GetSlotList (CK_TRUE, slots, &n), ==, CKR_BUFFER_TOO_SMALL);
  n = 2;
  g_assert_cmpuint (p11->C_GetSlotList (CK_TRUE, slots, &n), ==, CKR_OK);
  g_assert_cmpuint (slots[0], ==, 1);
  g_assert_cmpuint (slots[1], ==, 2);
  CK_SLOT_INFO si;
  g_assert_cmpuint (p11->C_GetSlotInfo (slots[0], &si), ==, CKR_OK);
  g_assert_true (si.flags & CKF_TOKEN_PRESENT);
  g_assert_true (si.flags & CKF_REMOVABLE_DEVICE);
  g_assert_false (si.flags & CKF_HW_SLOT);
  g_assert_true (g_str_has_prefix ((const char *) si.slotDescription, "SETTLE Local Trust "));
  CK_TOKEN_INFO ti;
  g_assert_cmpuint (p11->C_GetTokenInfo (slots[0], &ti), ==, CKR_OK);
  g_assert_true (ti.flags & CKF_WRITE_PROTECTED);
  g_assert_false (ti.flags & CKF_LOGIN_REQUIRED);
  /* The identity slot: no login, ECDSA signing and nothing else. */
  g_assert_cmpuint (p11->C_GetSlotInfo (slots[1], &si), ==, CKR_OK);
  g_assert_true (g_str_has_prefix ((const char *) si.slotDescription, "SETTLE Device Identities "));
  g_assert_cmpuint (p11->C_GetTokenInfo (slots[1], &ti), ==, CKR_OK);
  g_assert_false (ti.flags & CKF_LOGIN_REQUIRED);
  CK_MECHANISM_TYPE mechs[4];
  CK_ULONG n_mechs = 4;
  g_assert_cmpuint (p11->C_GetMechanismList (slots[1], mechs, &n_mechs), ==, CKR_OK);
  g_assert_cmpuint (n_mechs, ==, 1);
  g_assert_cmpuint (mechs[0], ==, CKM_ECDSA);
  CK_MECHANISM_INFO mi;
  g_assert_cmpuint (p11->C_GetMechanismInfo (slots[1], CKM_ECDSA, &mi), ==, CKR_OK);
  g_assert_true (mi.flags & CKF_SIGN);
  g_assert_cmpuint (p11->C_GetMechanismInfo (slots[0], CKM_ECDSA, &mi), ==, CKR_MECHANISM_INVALID);
  n_mechs = 4;
  g_assert_cmpuint (p11->C_GetMechanismList (slots[0], mechs, &n_mechs), ==, CKR_OK);
  g_assert_cmpuint (n_mechs, ==, 0);
  g_assert_cmpuint (p11->C_GetSlotInfo (42, &si), ==, CKR_SLOT_ID_INVALID);
  g_assert_cmpuint (p11->C_Initialize (NULL), ==, CKR_CRYPTOKI_ALREADY_INITIALIZED);
  g_assert_cmpuint (p11->C_Finalize (NULL), ==, CKR_OK);
  g_assert_cmpuint (p11->C_GetSlotList (CK_TRUE, NULL, &n), ==, CKR_CRYPTOKI_NOT_INITIALIZED);
}

static void
test_attributes (void)
{
  init_module ();
  CK_SESSION_HANDLE s = open_session ();
  CK_OBJECT_HANDLE root = find_one_by_label (s, CKO_CERTIFICATE, "printer.local (root)");
  CK_OBJECT_HANDLE cross = find_one_by_label (s, CKO_CERTIFICATE, "printer.local (cross)");
  g_assert_cmpuint (get_ulong (s, root, CKA_CERTIFICATE_CATEGORY), ==, 2);
  CK_BBOOL trusted = CK_FALSE;
  CK_ATTRIBUTE t = { CKA_TRUSTED, &trusted, 1 };
  g_assert_cmpuint (p11->C_GetAttributeValue (s, root, &t, 1), ==, CKR_OK);
  g_assert_true (trusted);
  g_assert_cmpuint (p11->C_GetAttributeValue (s, cross, &t, 1), ==, CKR_OK);
  g_assert_false (trusted);

  /* Size query, short buffer, unknown attribute: every entry processed. */
  guint8 small[4], issuer[1024], serial[64];
  CK_ULONG policy = 0;
  CK_ATTRIBUTE a[] = {
    { CKA_VALUE, NULL, 0 },
    { CKA_SUBJECT, small, sizeof small },
    { CKA_NSS_MOZILLA_CA_POLICY, &policy, sizeof policy },
    { CKA_ISSUER, issuer, sizeof issuer },
    { CKA_SERIAL_NUMBER, serial, sizeof serial },
  };
  CK_RV rv = p11->C_GetAttributeValue (s, root, a, G_N_ELEMENTS (a));
  g_assert_true (rv == CKR_BUFFER_TOO_SMALL || rv == CKR_ATTRIBUTE_TYPE_INVALID);
  g_assert_cmpuint (a[0].ulValueLen, >, 100);
  g_assert_cmpuint (a[1].ulValueLen, ==, CK_UNAVAILABLE_INFORMATION);
  g_assert_cmpuint (a[2].ulValueLen, ==, CK_UNAVAILABLE_INFORMATION);
  g_assert_cmpuint (a[3].ulValueLen, >, 0);
  g_assert_cmpuint (a[3].ulValueLen, <, sizeof issuer);
  g_assert_cmpuint (a[4].ulValueLen, >, 2);

  /* NSS's own lookup: trust by issuer and serial. */
  CK_OBJECT_CLASS nss_trust = CKO_NSS_TRUST;
  CK_ATTRIBUTE by_is[] = {
    { CKA_CLASS, &nss_trust, sizeof nss_trust },
    { CKA_ISSUER, issuer, a[3].ulValueLen },
    { CKA_SERIAL_NUMBER, serial, a[4].ulValueLen },
  };
  CK_OBJECT_HANDLE h[4];
  g_assert_cmpuint (find (s, by_is, 3, h, 4), ==, 1);
  g_assert_cmpuint (get_ulong (s, h[0], CKA_TRUST_SERVER_AUTH), ==, CKT_NSS_TRUSTED_DELEGATOR);
  g_assert_cmpuint (get_ulong (s, h[0], CKA_TRUST_EMAIL_PROTECTION), ==, CKT_NSS_MUST_VERIFY_TRUST);
  CK_OBJECT_CLASS pkcs_trust = CKO_TRUST_3_2;
  by_is[0].pValue = &pkcs_trust;
  g_assert_cmpuint (find (s, by_is, 3, h, 4), ==, 1);
  g_assert_cmpuint (get_ulong (s, h[0], CKA_TRUST_SERVER_AUTH_3_2), ==, CKT_TRUST_ANCHOR_3_2);

  CK_OBJECT_HANDLE cross_trust = find_one_by_label (s, CKO_NSS_TRUST, "printer.local (cross)");
  g_assert_cmpuint (get_ulong (s, cross_trust, CKA_TRUST_SERVER_AUTH), ==, CKT_NSS_MUST_VERIFY_TRUST);

  /* Nothing looks like the built-in root list. */
  CK_OBJECT_CLASS builtin = CKO_NSS_BUILTIN_ROOT_LIST;
  CK_ATTRIBUTE b = { CKA_CLASS, &builtin, sizeof builtin };
  g_assert_cmpuint (find (s, &b, 1, h, 4), ==, 0);
  g_assert_cmpuint (p11->C_GetAttributeValue (s, 0x7777, a, 1), ==, CKR_OBJECT_HANDLE_INVALID);
  g_assert_cmpuint (p11->C_Finalize (NULL), ==, CKR_OK);
}

static void
test_refusals (void)
{
  init_module ();
  CK_SESSION_HANDLE s = 0;
  g_assert_cmpuint (p11->C_OpenSession (1, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s), ==,
                    CKR_TOKEN_WRITE_PROTECTED);
  s = open_session ();
  CK_OBJECT_CLASS klass = CKO_DATA;
  CK_ATTRIBUTE a = { CKA_CLASS, &klass, sizeof klass };
  CK_OBJECT_HANDLE h = 0;
  g_assert_cmpuint (p11->C_CreateObject (s, &a, 1, &h), ==, CKR_TOKEN_WRITE_PROTECTED);
  g_assert_cmpuint (p11->C_DestroyObject (s, 1), ==, CKR_TOKEN_WRITE_PROTECTED);
  g_assert_cmpuint (p11->C_SetAttributeValue (s, 1, &a, 1), ==, CKR_TOKEN_WRITE_PROTECTED);
  g_assert_cmpuint (p11->C_Login (s, CKU_USER, NULL, 0), ==, CKR_FUNCTION_NOT_SUPPORTED);
  g_assert_cmpuint (p11->C_Logout (s), ==, CKR_USER_NOT_LOGGED_IN);
  CK_MECHANISM m = { CKM_SHA256, NULL, 0 };
  g_assert_cmpuint (p11->C_DigestInit (s, &m), ==, CKR_MECHANISM_INVALID);
  g_assert_cmpuint (p11->C_SignInit (s, &m, 1), ==, CKR_MECHANISM_INVALID);
  /* ECDSA exists, but a trust-slot handle is no key. */
  CK_MECHANISM ecdsa = { CKM_ECDSA, NULL, 0 };
  g_assert_cmpuint (p11->C_SignInit (s, &ecdsa, 1), ==, CKR_KEY_HANDLE_INVALID);
  g_assert_cmpuint (p11->C_Sign (s, NULL, 0, NULL, &klass), ==, CKR_OPERATION_NOT_INITIALIZED);
  g_assert_cmpuint (p11->C_FindObjects (s, &h, 1, &klass), ==, CKR_OPERATION_NOT_INITIALIZED);
  g_assert_cmpuint (p11->C_FindObjectsInit (s, NULL, 0), ==, CKR_OK);
  g_assert_cmpuint (p11->C_FindObjectsInit (s, NULL, 0), ==, CKR_OPERATION_ACTIVE);
  g_assert_cmpuint (p11->C_CloseSession (s), ==, CKR_OK);
  g_assert_cmpuint (p11->C_CloseSession (s), ==, CKR_SESSION_HANDLE_INVALID);
  CK_SLOT_ID slot;
  g_assert_cmpuint (p11->C_WaitForSlotEvent (0, &slot, NULL), ==, CKR_FUNCTION_NOT_SUPPORTED);
  g_assert_cmpuint (p11->C_Finalize (NULL), ==, CKR_OK);
}

static void
test_fork (void)
{
  init_module ();
  pid_t pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      CK_ULONG n = 0;
      int ok = p11->C_GetSlotList (CK_TRUE, NULL, &n) == CKR_CRYPTOKI_NOT_INITIALIZED
               && p11->C_Initialize (NULL) == CKR_OK && p11->C_GetSlotList (CK_TRUE, NULL, &n) == CKR_OK
               && p11->C_Finalize (NULL) == CKR_OK;
      _exit (ok ? 0 : 1);
    }
  int status = 0;
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  CK_ULONG n = 0;
  g_assert_cmpuint (p11->C_GetSlotList (CK_TRUE, NULL, &n), ==, CKR_OK);
  g_assert_cmpuint (p11->C_Finalize (NULL), ==, CKR_OK);
}

static void
test_swap (void)
{
  point_trust_at ("SP11_GEN_A");
  init_module ();
  CK_SESSION_HANDLE s = open_session ();
  CK_OBJECT_HANDLE root = find_one_by_label (s, CKO_CERTIFICATE, "printer.local (root)");
  CK_SESSION_INFO info;
  g_assert_cmpuint (p11->C_GetSessionInfo (s, &info), ==, CKR_OK);

  point_trust_at ("SP11_GEN_B");
  wait_past_rate_limit ();
  CK_OBJECT_CLASS klass = CKO_CERTIFICATE;
  const char *label = "printer.local (root)";
  CK_ATTRIBUTE tmpl[] = { { CKA_CLASS, &klass, sizeof klass }, { CKA_LABEL, (void *) label, strlen (label) } };
  CK_OBJECT_HANDLE h[4];
  g_assert_cmpuint (find (s, tmpl, 2, h, 4), ==, 0);
  CK_ATTRIBUTE v = { CKA_VALUE, NULL, 0 };
  g_assert_cmpuint (p11->C_GetAttributeValue (s, root, &v, 1), ==, CKR_OBJECT_HANDLE_INVALID);
  g_assert_cmpuint (p11->C_GetSessionInfo (s, &info), ==, CKR_SESSION_HANDLE_INVALID);
  CK_SLOT_ID slot = 0;
  g_assert_cmpuint (p11->C_WaitForSlotEvent (CKF_DONT_BLOCK, &slot, NULL), ==, CKR_OK);
  g_assert_cmpuint (slot, ==, 1);
  /* The identity slot follows the same snapshot: its event comes next. */
  g_assert_cmpuint (p11->C_WaitForSlotEvent (CKF_DONT_BLOCK, &slot, NULL), ==, CKR_OK);
  g_assert_cmpuint (slot, ==, 2);
  g_assert_cmpuint (p11->C_WaitForSlotEvent (CKF_DONT_BLOCK, &slot, NULL), ==, CKR_NO_EVENT);
  CK_SESSION_HANDLE s2 = open_session ();
  g_assert_cmpuint (p11->C_GetSessionInfo (s2, &info), ==, CKR_OK);
  find_one_by_label (s2, CKO_CERTIFICATE, "router.home.arpa (root)");
  point_trust_at ("SP11_GEN_A");
  g_assert_cmpuint (p11->C_Finalize (NULL), ==, CKR_OK);
}

/* Plain pthreads and a mutex-guarded flag: helgrind understands those
 * (GLib's lazy thread-private setup shows up as a false positive). */
static pthread_mutex_t stop_lock = PTHREAD_MUTEX_INITIALIZER;
static int stop_readers;

static int
readers_should_stop (void)
{
  pthread_mutex_lock (&stop_lock);
  int stop = stop_readers;
  pthread_mutex_unlock (&stop_lock);
  return stop;
}

static void
set_readers_stop (int stop)
{
  pthread_mutex_lock (&stop_lock);
  stop_readers = stop;
  pthread_mutex_unlock (&stop_lock);
}

typedef struct {
  guint64 reads;
} Reader;

static void *
reader_thread (void *data)
{
  Reader *r = data;
  CK_SESSION_HANDLE s = open_session ();
  while (!readers_should_stop ())
    {
      CK_OBJECT_CLASS klass = CKO_CERTIFICATE;
      CK_ATTRIBUTE tmpl = { CKA_CLASS, &klass, sizeof klass };
      CK_OBJECT_HANDLE h[8];
      CK_ULONG n = find (s, &tmpl, 1, h, 8);
      for (CK_ULONG i = 0; i < n; i++)
        {
          guint8 subject[1024];
          CK_ATTRIBUTE a[] = { { CKA_VALUE, NULL, 0 }, { CKA_SUBJECT, subject, sizeof subject } };
          CK_RV rv = p11->C_GetAttributeValue (s, h[i], a, 2);
          /* A swap between the find and the read makes the handle stale. */
          g_assert_true (rv == CKR_OK || rv == CKR_OBJECT_HANDLE_INVALID);
          if (rv == CKR_OK)
            {
              CK_ATTRIBUTE by_subject[] = { { CKA_CLASS, &klass, sizeof klass },
                                            { CKA_SUBJECT, subject, a[1].ulValueLen } };
              CK_OBJECT_HANDLE same[8];
              find (s, by_subject, 2, same, 8);
              r->reads++;
            }
        }
    }
  g_assert_cmpuint (p11->C_CloseSession (s), ==, CKR_OK);
  return NULL;
}

/* Helgrind slows everything down some fifty times: fewer, longer rounds. */
static gint64
thread_seconds (void)
{
  const char *env = g_getenv ("SP11_THREAD_SECONDS");
  return env ? g_ascii_strtoll (env, NULL, 10) : 2;
}

static void
test_threads (void)
{
  init_module ();
  Reader readers[8];
  pthread_t threads[8];
  set_readers_stop (0);
  for (int i = 0; i < 8; i++)
    {
      readers[i] = (Reader) { 0 };
      g_assert_cmpint (pthread_create (&threads[i], NULL, reader_thread, &readers[i]), ==, 0);
    }
  gint64 end = g_get_monotonic_time () + G_USEC_PER_SEC * thread_seconds ();
  int swaps = 0;
  while (g_get_monotonic_time () < end)
    {
      point_trust_at (swaps % 2 ? "SP11_GEN_A" : "SP11_GEN_B");
      swaps++;
      g_usleep (120 * 1000);
    }
  set_readers_stop (1);
  guint64 reads = 0;
  for (int i = 0; i < 8; i++)
    {
      pthread_join (threads[i], NULL);
      reads += readers[i].reads;
    }
  g_test_message ("%d snapshot swaps, %" G_GUINT64_FORMAT " attribute reads by 8 threads", swaps, reads);
  g_assert_cmpuint (reads, >, 0);
  point_trust_at ("SP11_GEN_A");
  g_assert_cmpuint (p11->C_Finalize (NULL), ==, CKR_OK);
}

static void
test_interface (void)
{
  typedef struct { CK_UTF8CHAR *name; void *list; CK_FLAGS flags; } Interface;
  CK_RV (*get_interface) (CK_UTF8CHAR *, CK_VERSION *, Interface **, CK_FLAGS);
  void *lib = dlopen (g_getenv ("TEST_PKCS11_MODULE"), RTLD_NOW);
  *(void **) &get_interface = dlsym (lib, "C_GetInterface");
  g_assert_nonnull (get_interface);
  Interface *iface = NULL;
  g_assert_cmpuint (get_interface ((CK_UTF8CHAR *) "PKCS 11", NULL, &iface, 0), ==, CKR_OK);
  g_assert_true (iface->list == (void *) p11);
  g_assert_null (dlsym (lib, "C_Initialize")); /* only the list is exported */
  g_assert_null (dlsym (lib, "sp11_view_new"));
  dlclose (lib);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  void *lib = dlopen (g_getenv ("TEST_PKCS11_MODULE"), RTLD_NOW);
  if (lib == NULL)
    g_error ("cannot load the module: %s", dlerror ());
  GetFunctionListFn get_list;
  *(void **) &get_list = dlsym (lib, "C_GetFunctionList");
  g_assert_cmpuint (get_list (&p11), ==, CKR_OK);
  g_test_add_func ("/info", test_info);
  g_test_add_func ("/attributes", test_attributes);
  g_test_add_func ("/refusals", test_refusals);
  g_test_add_func ("/fork", test_fork);
  g_test_add_func ("/swap", test_swap);
  g_test_add_func ("/threads", test_threads);
  g_test_add_func ("/interface", test_interface);
  return g_test_run ();
}
