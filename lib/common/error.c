/* error.c: the SETTLE_ERROR domain. */
#include "settle-error.h"

G_DEFINE_QUARK (settle-error-quark, settle_error)
