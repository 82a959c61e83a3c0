/* settle-commit.h: every change to what is trusted goes through here.
 *
 * Under the state lock: change the store, write the next trust snapshot
 * generation from the current one and the changed records (from the
 * whole store when the current one cannot be changed in place,
 * docs/snapshot.md "Changes"), refresh kept exports.  If the snapshot cannot be
 * written the store change is undone, so the store and what browsers and
 * OpenSSL see never disagree.  The store is the manager's
 * (settle_manager_store()); a warning (a kept export that could not be
 * refreshed) is a SETTLE_NOTE_WARNING of the manager, never printed.
 * Records passed in are borrowed. */
#pragma once

#include <glib.h>

#include "settle-record.h"
#include "settle-manager.h"
#include "settle-store.h"

gboolean settle_commit_add (SettleManager *manager, const SettleRecord *record, GError **error);
/* `client_key_pem` (borrowed, may be NULL) is stored with the record. */
gboolean settle_commit_add_with_key (SettleManager *manager, const SettleRecord *record,
                                     GBytes *client_key_pem, GError **error);
gboolean settle_commit_remove (SettleManager *manager, const SettleRecord *record, GError **error);
/* Deletes a record the store set aside as unreadable (and its client
 * key), under the state lock; it was never in the snapshot. */
gboolean settle_commit_remove_unreadable (SettleManager *manager, const char *fingerprint, GError **error);
/* Replaces `old_record` by `record` (a rotated device CA: a new
 * fingerprint for the same binding); `client_key_pem` (borrowed, may be
 * NULL) moves to the new record. */
gboolean settle_commit_replace (SettleManager *manager, const SettleRecord *old_record,
                                const SettleRecord *record, GBytes *client_key_pem, GError **error);
/* A renewed client certificate: `record` (same fingerprint, new
 * client_cert_der) and `new_key_pem` replace what is stored, under the
 * state lock.  Trust does not change, so the exports stay; the snapshot's
 * client entry (what the module's identity slot serves) is replaced.
 * When the record cannot be written, `old_key_pem` goes back, so the
 * stored key and certificate still match.  All borrowed. */
gboolean settle_commit_client_renewal (SettleManager *manager, const SettleRecord *record, GBytes *old_key_pem,
                                       GBytes *new_key_pem, GError **error);
/* Finishes a change that a killed command left half done (its store
 * change made, the snapshot not yet rewritten): the snapshot and kept
 * exports are rebuilt from the store.  Cheap when nothing is pending.
 * settle_manager_store() calls it when it opens the store, so every
 * operation starts from a snapshot that matches the store. */
gboolean settle_commit_recover (SettleManager *manager, GError **error);
