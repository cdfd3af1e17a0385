/* err: the project's one return-code enum and the error record that low-level
 * modules fill instead of printing (only the runner and the CLI print). */
#ifndef FE_ERR_H
#define FE_ERR_H

#include <stdarg.h>

#define FE_MUST_CHECK __attribute__((warn_unused_result))
#define FE_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* Returns the code of expr from the calling function unless it is FE_OK. Only
 * for functions that hold nothing to release at that point. */
#define FE_TRY(expr)                                                                               \
    do {                                                                                           \
        fe_rc fe_try_rc_ = (expr);                                                                 \
        if (fe_try_rc_ != FE_OK)                                                                   \
            return fe_try_rc_;                                                                     \
    } while (0)

typedef enum {
    FE_OK = 0,
    FE_ENOMEM,   /* allocation failed or a buffer cap was reached */
    FE_EINVAL,   /* bad argument or malformed value */
    FE_ECONFIG,  /* configuration error: nothing was run */
    FE_EHTTP,    /* HTTP error that survived its retries */
    FE_EAUTH,    /* credentials rejected */
    FE_EJSON,    /* response is not valid JSON or not the expected shape */
    FE_EPG,      /* PostgreSQL error */
    FE_ECONNECT, /* the warehouse could not be reached */
    FE_ELOCKED,  /* another run holds this source's advisory lock */
    FE_EREJECTS, /* too many records could not be mapped */
    FE_EABORT,   /* a callback asked to stop */
    FE_EIO,      /* file or OS error */
    FE_EINTR,    /* the run was asked to stop (SIGTERM, SIGINT): not a failure of the source */
    FE_EIDENTITY /* the source's configured identity no longer matches the warehouse */
} fe_rc;

/* Error record. msg is one line, no trailing newline, never contains secrets
 * (callers must not put tokens or passwords in it). */
typedef struct {
    fe_rc code;
    char msg[768];
} fe_err;

/* Sets err (if not NULL) and returns code, so callers can `return fe_err_set(...)`.
 * A second call overwrites the first. */
fe_rc fe_err_set(fe_err *err, fe_rc code, const char *fmt, ...) FE_PRINTF(3, 4);

/* Prefixes the existing message with "what: " (context from an outer layer).
 * Returns err->code; FE_EINVAL when err is NULL (a caller that may pass NULL
 * returns its own code instead). Messages cut at the size limit stay valid UTF-8. */
fe_rc fe_err_wrap(fe_err *err, const char *fmt, ...) FE_PRINTF(2, 3);

void fe_err_clear(fe_err *err);

/* Name of a code, e.g. "http". Static string. */
const char *fe_rc_name(fe_rc code);

#endif
