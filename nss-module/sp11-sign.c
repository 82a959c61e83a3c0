/* sp11-sign.c: C_SignInit and C_Sign for the identity keys.
 *
 * CKM_ECDSA only, single part, as PKCS#11 defines that mechanism: NSS (and
 * so Firefox and Chromium) hashes the TLS transcript itself and asks for a
 * raw r || s over the digest.  The key never enters this process: C_Sign
 * copies what the signer needs, drops the module lock (other threads keep
 * verifying certificates meanwhile), runs the signer (sp11-signer.c) and
 * takes the lock again to end the operation. */
#include "sp11-api.h"

#include <string.h>

#include "sp11-signer.h"
#include "sp11-state.h"

/* The named curves a client key may use, by the DER OID in CKA_EC_PARAMS,
 * with the byte length of the group order (half the r || s signature). */
static const struct {
  uint8_t oid[10];
  size_t oid_len;
  size_t order_len;
} sp11_curves[] = {
  { { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 }, 10, 32 }, /* P-256 */
  { { 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22 }, 7, 48 },                    /* P-384 */
  { { 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23 }, 7, 66 },                    /* P-521 */
};

static size_t
sp11_order_len (settle_bytes ec_params)
{
  for (size_t i = 0; i < sizeof sp11_curves / sizeof sp11_curves[0]; i++)
    if (ec_params.len == sp11_curves[i].oid_len
        && memcmp (ec_params.data, sp11_curves[i].oid, ec_params.len) == 0)
      return sp11_curves[i].order_len;
  return 0;
}

static CK_RV
sp11_sign_start (sp11_module *m, sp11_session *s, CK_MECHANISM_PTR mech, CK_OBJECT_HANDLE key)
{
  if (s->sign.active)
    return CKR_OPERATION_ACTIVE;
  if (mech->mechanism != CKM_ECDSA)
    return CKR_MECHANISM_INVALID;
  if (mech->pParameter != NULL || mech->ulParameterLen != 0)
    return CKR_MECHANISM_PARAM_INVALID;
  sp11_object obj;
  if (!sp11_view_object (m->view, s->slot, key, &obj) || obj.kind != SP11_OBJ_PRIVATE_KEY)
    return CKR_KEY_HANDLE_INVALID;
  const settle_snap_entry *e = obj.entry;
  size_t order_len = sp11_order_len (e->ec_params);
  if (order_len == 0)
    return CKR_KEY_TYPE_INCONSISTENT;
  if (strlen (e->record) != sizeof s->sign.record - 1 || e->id.len != sizeof s->sign.key_id)
    return CKR_KEY_HANDLE_INVALID; /* the snapshot reader guarantees both */
  memset (&s->sign, 0, sizeof s->sign);
  memcpy (s->sign.record, e->record, sizeof s->sign.record);
  memcpy (s->sign.key_id, e->id.data, sizeof s->sign.key_id);
  s->sign.sig_len = 2 * order_len;
  s->sign.active = 1;
  return CKR_OK;
}

CK_RV
sp11_C_SignInit (CK_SESSION_HANDLE handle, CK_MECHANISM_PTR mech, CK_OBJECT_HANDLE key)
{
  sp11_module *m;
  sp11_session *s;
  CK_RV rv = sp11_enter_session (handle, &m, &s);
  if (rv != CKR_OK)
    return rv;
  rv = mech == NULL ? CKR_ARGUMENTS_BAD : sp11_sign_start (m, s, mech, key);
  sp11_leave (m);
  return rv;
}

/* Checks a C_Sign call.  Returns CKR_OK when the signer must run (with a
 * copy of the operation in *op), or the call's result; `ends` says
 * whether that result ends the operation (PKCS#11 5.2: all but a length
 * query and CKR_BUFFER_TOO_SMALL do). */
static CK_RV
sp11_sign_check (sp11_session *s, CK_BYTE_PTR data, CK_ULONG len, CK_BYTE_PTR sig,
                 CK_ULONG_PTR sig_len, sp11_sign_op *op, int *ends)
{
  *ends = 1;
  if (!s->sign.active)
    {
      *ends = 0;
      return CKR_OPERATION_NOT_INITIALIZED;
    }
  if (s->sign.busy)
    {
      *ends = 0;
      return CKR_OPERATION_ACTIVE; /* another thread is signing on this session */
    }
  if ((data == NULL && len > 0) || sig_len == NULL)
    return CKR_ARGUMENTS_BAD;
  if (len == 0 || len > SP11_SIGN_MAX_DIGEST)
    return CKR_DATA_LEN_RANGE;
  if (sig == NULL || *sig_len < s->sign.sig_len)
    {
      CK_RV rv = sig == NULL ? CKR_OK : CKR_BUFFER_TOO_SMALL;
      *sig_len = s->sign.sig_len;
      *ends = 0;
      return rv;
    }
  *op = s->sign;
  return CKR_OK;
}

CK_RV
sp11_C_Sign (CK_SESSION_HANDLE handle, CK_BYTE_PTR data, CK_ULONG len, CK_BYTE_PTR sig,
             CK_ULONG_PTR sig_len)
{
  sp11_module *m;
  sp11_session *s;
  CK_RV rv = sp11_enter_session (handle, &m, &s);
  if (rv != CKR_OK)
    return rv;
  sp11_sign_op op;
  int ends;
  rv = sp11_sign_check (s, data, len, sig, sig_len, &op, &ends);
  if (rv != CKR_OK || !ends)
    {
      if (ends)
        memset (&s->sign, 0, sizeof s->sign);
      sp11_leave (m);
      return rv;
    }
  s->sign.busy = 1;
  sp11_leave (m);

  uint8_t out[SP11_SIGN_MAX_SIG];
  rv = sp11_signer_sign (op.record, op.key_id, data, (size_t) len, out, op.sig_len);

  /* The session may have been closed while the signer ran. */
  if (sp11_enter (&m) != CKR_OK)
    return CKR_CRYPTOKI_NOT_INITIALIZED;
  s = sp11_session_lookup (m, handle);
  if (s == NULL)
    rv = CKR_SESSION_CLOSED;
  else
    memset (&s->sign, 0, sizeof s->sign);
  sp11_leave (m);
  if (rv == CKR_OK)
    {
      memcpy (sig, out, op.sig_len);
      *sig_len = (CK_ULONG) op.sig_len;
    }
  return rv;
}

/* CKM_ECDSA is a single-part mechanism (PKCS#11 mechanisms, 2.3.6): the
 * multi-part calls end an operation that C_SignInit started. */
static CK_RV
sp11_sign_multipart (CK_SESSION_HANDLE handle)
{
  sp11_module *m;
  sp11_session *s;
  CK_RV rv = sp11_enter_session (handle, &m, &s);
  if (rv != CKR_OK)
    return rv;
  if (!s->sign.active)
    rv = CKR_OPERATION_NOT_INITIALIZED;
  else if (s->sign.busy)
    rv = CKR_OPERATION_ACTIVE;
  else
    {
      memset (&s->sign, 0, sizeof s->sign);
      rv = CKR_FUNCTION_NOT_SUPPORTED;
    }
  sp11_leave (m);
  return rv;
}

CK_RV
sp11_C_SignUpdate (CK_SESSION_HANDLE handle, CK_BYTE_PTR data, CK_ULONG len)
{
  (void) data;
  (void) len;
  return sp11_sign_multipart (handle);
}

CK_RV
sp11_C_SignFinal (CK_SESSION_HANDLE handle, CK_BYTE_PTR sig, CK_ULONG_PTR sig_len)
{
  (void) sig;
  (void) sig_len;
  return sp11_sign_multipart (handle);
}
