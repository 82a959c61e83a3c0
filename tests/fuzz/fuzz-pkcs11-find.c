/* fuzz-pkcs11-find.c: the PKCS#11 module's search templates and attribute
 * reads (nss-module/sp11-session.c, sp11-view.c, sp11-attrs.c), driven
 * through the module's own function list as NSS or p11-kit would.
 *
 * Setup (once): SETTLE_TRUST_DIR names tests/fuzz/snapshot (a real
 * index.cbor written by `settle trust`; an existing SETTLE_TRUST_DIR is
 * kept), then C_GetFunctionList, C_Initialize, C_OpenSession, and a search
 * with an empty template lists every object of the token.
 *
 * Input, read front to back (missing bytes read as 0):
 *   n (mod 9) template attributes, then max (mod 8) for C_FindObjects;
 *   per attribute: a type (one byte indexing a table of the attributes the
 *   module knows, or 0xff and 4 raw bytes), then a value: 0xff and a length
 *   byte (pValue NULL), 0xfe and an object index (that object's own value
 *   of the type, so that searches can match), or a length and that many
 *   bytes;
 *   then m (mod 9) attributes to read, each a type and a buffer size
 *   (0xff: pValue NULL), asked of every object found and of one more
 *   handle taken raw from the input (4 bytes).
 *
 * Invariants asserted: no crash; C_FindObjectsInit returns CKR_OK (any
 * template of at most 64 attributes is valid); C_FindObjects returns
 * CKR_OK and at most `max` handles, each once; the handles found are
 * exactly the objects whose attributes equal the template (checked one by
 * one with C_GetAttributeValue); C_FindObjectsFinal returns CKR_OK, and
 * CKR_OPERATION_NOT_INITIALIZED when repeated; C_GetAttributeValue returns
 * only CKR_OK, CKR_ATTRIBUTE_TYPE_INVALID, CKR_BUFFER_TOO_SMALL (or
 * CKR_OBJECT_HANDLE_INVALID for a handle that is no object), never writes
 * past a buffer (ASan: buffers have exactly the size given) and reports
 * either CK_UNAVAILABLE_INFORMATION or a length that fits the buffer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-assert.h"
#include "sp11-pkcs11.h"

#define MAX_ATTRS 8
#define MAX_OBJECTS 256

static CK_FUNCTION_LIST_PTR p11;
static CK_SESSION_HANDLE session;
static CK_OBJECT_HANDLE all[MAX_OBJECTS];
static size_t n_all;

static const CK_ATTRIBUTE_TYPE known_types[] = {
  CKA_CLASS, CKA_TOKEN, CKA_PRIVATE, CKA_LABEL, CKA_VALUE, CKA_SUBJECT, CKA_ISSUER,
  CKA_SERIAL_NUMBER, CKA_ID, CKA_CERTIFICATE_TYPE, CKA_CERTIFICATE_CATEGORY, CKA_TRUSTED,
  CKA_MODIFIABLE, CKA_COPYABLE, CKA_DESTROYABLE, CKA_START_DATE, CKA_END_DATE, CKA_URL,
  CKA_CHECK_VALUE, CKA_JAVA_MIDP_SECURITY_DOMAIN, CKA_HASH_OF_SUBJECT_PUBLIC_KEY,
  CKA_CERT_SHA1_HASH, CKA_CERT_MD5_HASH, CKA_TRUST_SERVER_AUTH, CKA_TRUST_CLIENT_AUTH,
  CKA_TRUST_EMAIL_PROTECTION, CKA_TRUST_CODE_SIGNING, CKA_TRUST_STEP_UP_APPROVED,
  SP11_CKA_HASH_OF_CERTIFICATE, SP11_CKA_PKCS_TRUST_SERVER_AUTH,
  SP11_CKA_PKCS_TRUST_CLIENT_AUTH, SP11_CKA_X_ASSERTION_TYPE, SP11_CKA_X_CERTIFICATE_VALUE,
  SP11_CKA_X_PURPOSE, SP11_CKA_X_PEER,
};
#define N_KNOWN (sizeof known_types / sizeof known_types[0])

typedef struct {
  const uint8_t *p, *end;
} reader;

static uint8_t
next (reader *r)
{
  return r->p < r->end ? *r->p++ : 0;
}

static CK_ATTRIBUTE_TYPE
next_type (reader *r)
{
  uint8_t b = next (r);
  if (b != 0xff)
    return known_types[b % N_KNOWN];
  CK_ATTRIBUTE_TYPE t = 0;
  for (int i = 0; i < 4; i++)
    t = (t << 8) | next (r);
  return t;
}

/* An object's value of `type` (owned, exact size), or NULL when the object
 * has none; *len is its length. */
static void *
object_value (CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_TYPE type, CK_ULONG *len, CK_RV *status)
{
  CK_ATTRIBUTE a = { type, NULL, 0 };
  CK_RV rv = p11->C_GetAttributeValue (session, obj, &a, 1);
  *status = rv;
  if (rv != CKR_OK)
    return NULL;
  FUZZ_ASSERT (a.ulValueLen != CK_UNAVAILABLE_INFORMATION);
  void *buf = malloc (a.ulValueLen ? a.ulValueLen : 1);
  FUZZ_ASSERT (buf != NULL);
  a.pValue = buf;
  FUZZ_ASSERT (p11->C_GetAttributeValue (session, obj, &a, 1) == CKR_OK);
  *len = a.ulValueLen;
  return buf;
}

/* What C_FindObjects must find: equal type, length and bytes for every
 * template attribute. */
static int
object_matches (CK_OBJECT_HANDLE obj, const CK_ATTRIBUTE *tmpl, CK_ULONG count)
{
  for (CK_ULONG i = 0; i < count; i++)
    {
      CK_ULONG len = 0;
      CK_RV rv;
      void *value = object_value (obj, tmpl[i].type, &len, &rv);
      FUZZ_ASSERT (rv == CKR_OK || rv == CKR_ATTRIBUTE_TYPE_INVALID);
      int same = value != NULL && len == tmpl[i].ulValueLen
                 && (len == 0 || (tmpl[i].pValue != NULL && memcmp (value, tmpl[i].pValue, len) == 0));
      free (value);
      if (!same)
        return 0;
    }
  return 1;
}

static void
read_attributes (CK_OBJECT_HANDLE obj, const CK_ATTRIBUTE_TYPE *types, const int *sizes,
                 size_t m, int is_object)
{
  CK_ATTRIBUTE tmpl[MAX_ATTRS];
  void *bufs[MAX_ATTRS];
  for (size_t i = 0; i < m; i++)
    {
      bufs[i] = sizes[i] < 0 ? NULL : malloc (sizes[i] ? (size_t) sizes[i] : 1);
      tmpl[i].type = types[i];
      tmpl[i].pValue = bufs[i];
      tmpl[i].ulValueLen = sizes[i] < 0 ? 0 : (CK_ULONG) sizes[i];
    }
  CK_RV rv = p11->C_GetAttributeValue (session, obj, m ? tmpl : NULL, (CK_ULONG) m);
  if (!is_object)
    FUZZ_ASSERT (rv == CKR_OBJECT_HANDLE_INVALID);
  else
    {
      FUZZ_ASSERT (rv == CKR_OK || rv == CKR_ATTRIBUTE_TYPE_INVALID || rv == CKR_BUFFER_TOO_SMALL);
      for (size_t i = 0; i < m; i++)
        {
          CK_ULONG got = tmpl[i].ulValueLen;
          if (got == CK_UNAVAILABLE_INFORMATION)
            FUZZ_ASSERT (rv != CKR_OK);
          else if (sizes[i] >= 0)
            FUZZ_ASSERT (got <= (CK_ULONG) sizes[i]);
        }
    }
  for (size_t i = 0; i < m; i++)
    free (bufs[i]);
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  (void) argc;
  (void) argv;
  setenv ("SETTLE_TRUST_DIR", FUZZ_SNAPSHOT_DIR, 0);
  FUZZ_ASSERT (C_GetFunctionList (&p11) == CKR_OK && p11 != NULL);
  FUZZ_ASSERT (p11->C_Initialize (NULL) == CKR_OK);
  CK_SLOT_ID slots[4];
  CK_ULONG n_slots = 4;
  FUZZ_ASSERT (p11->C_GetSlotList (CK_TRUE, slots, &n_slots) == CKR_OK && n_slots == 2);
  /* The trust slot: the fuzzed searches are trust lookups. */
  FUZZ_ASSERT (p11->C_OpenSession (slots[0], CKF_SERIAL_SESSION, NULL, NULL, &session) == CKR_OK);
  FUZZ_ASSERT (p11->C_FindObjectsInit (session, NULL, 0) == CKR_OK);
  CK_ULONG got = 0;
  FUZZ_ASSERT (p11->C_FindObjects (session, all, MAX_OBJECTS, &got) == CKR_OK);
  FUZZ_ASSERT (p11->C_FindObjectsFinal (session) == CKR_OK);
  n_all = got;
  /* An empty token would make every search trivially right. */
  if (n_all == 0)
    {
      fprintf (stderr, "fuzz-pkcs11-find: no objects in %s\n", getenv ("SETTLE_TRUST_DIR"));
      abort ();
    }
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  reader r = { data, data + size };
  CK_ATTRIBUTE tmpl[MAX_ATTRS];
  void *values[MAX_ATTRS];
  size_t n = next (&r) % (MAX_ATTRS + 1);
  CK_ULONG max = next (&r) % 8;

  for (size_t i = 0; i < n; i++)
    {
      tmpl[i].type = next_type (&r);
      uint8_t mode = next (&r);
      values[i] = NULL;
      if (mode == 0xff)
        {
          tmpl[i].pValue = NULL;
          tmpl[i].ulValueLen = next (&r);
        }
      else if (mode == 0xfe)
        {
          CK_OBJECT_HANDLE obj = all[next (&r) % n_all];
          CK_ULONG len = 0;
          CK_RV rv;
          values[i] = object_value (obj, tmpl[i].type, &len, &rv);
          tmpl[i].pValue = values[i];
          tmpl[i].ulValueLen = len;
        }
      else
        {
          size_t len = (size_t) (r.end - r.p) < mode ? (size_t) (r.end - r.p) : mode;
          values[i] = malloc (len ? len : 1);
          FUZZ_ASSERT (values[i] != NULL);
          memcpy (values[i], r.p, len);
          r.p += len;
          tmpl[i].pValue = values[i];
          tmpl[i].ulValueLen = (CK_ULONG) len;
        }
    }

  CK_RV rv = p11->C_FindObjectsInit (session, n ? tmpl : NULL, (CK_ULONG) n);
  FUZZ_ASSERT (rv == CKR_OK);
  CK_OBJECT_HANDLE found[MAX_OBJECTS];
  size_t n_found = 0;
  CK_ULONG got = 99;
  CK_OBJECT_HANDLE scratch[8];
  FUZZ_ASSERT (p11->C_FindObjects (session, scratch, 0, &got) == CKR_OK && got == 0);
  if (max == 0)
    max = 1;
  do
    {
      got = 99;
      FUZZ_ASSERT (p11->C_FindObjects (session, scratch, max, &got) == CKR_OK);
      FUZZ_ASSERT (got <= max && n_found + got <= n_all);
      memcpy (found + n_found, scratch, got * sizeof scratch[0]);
      n_found += got;
    }
  while (got > 0);
  FUZZ_ASSERT (p11->C_FindObjectsFinal (session) == CKR_OK);
  FUZZ_ASSERT (p11->C_FindObjectsFinal (session) == CKR_OPERATION_NOT_INITIALIZED);

  /* Exactly the matching objects, each once. */
  size_t expected = 0;
  for (size_t i = 0; i < n_all; i++)
    {
      size_t seen = 0;
      for (size_t j = 0; j < n_found; j++)
        seen += found[j] == all[i];
      FUZZ_ASSERT (seen <= 1);
      int match = object_matches (all[i], tmpl, (CK_ULONG) n);
      FUZZ_ASSERT (seen == (size_t) match);
      expected += (size_t) match;
    }
  FUZZ_ASSERT (expected == n_found);
  for (size_t i = 0; i < n; i++)
    free (values[i]);

  /* Attribute reads with the sizes the input asks for. */
  CK_ATTRIBUTE_TYPE types[MAX_ATTRS];
  int sizes[MAX_ATTRS];
  size_t m = next (&r) % (MAX_ATTRS + 1);
  for (size_t i = 0; i < m; i++)
    {
      types[i] = next_type (&r);
      uint8_t s = next (&r);
      sizes[i] = s == 0xff ? -1 : s;
    }
  for (size_t j = 0; j < n_found; j++)
    read_attributes (found[j], types, sizes, m, 1);
  CK_OBJECT_HANDLE raw = 0;
  for (int i = 0; i < 4; i++)
    raw = (raw << 8) | next (&r);
  int is_object = 0;
  for (size_t i = 0; i < n_all; i++)
    is_object |= all[i] == raw;
  read_attributes (raw, types, sizes, m, is_object);
  return 0;
}
