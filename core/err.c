#include "core/err.h"

#include <stdio.h>
#include <string.h>

#include "core/buf.h"

/* vsnprintf truncates at a byte count; cutting inside a UTF-8 sequence would make
 * the message invalid text where it is stored (PostgreSQL rejects it). */
static void trim_truncated(char *msg, size_t size, int written)
{
    if (written < 0) {
        msg[0] = '\0';
        return;
    }
    if ((size_t)written >= size) {
        size_t len = strlen(msg);
        msg[buf_utf8_floor(msg, len)] = '\0';
    }
}

fe_rc fe_err_set(fe_err *err, fe_rc code, const char *fmt, ...)
{
    if (!err)
        return code;
    /* Formatted aside first: an argument may be err->msg itself. */
    char msg[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    trim_truncated(msg, sizeof msg, n);
    memcpy(err->msg, msg, sizeof msg);
    err->code = code;
    return code;
}

fe_rc fe_err_wrap(fe_err *err, const char *fmt, ...)
{
    if (!err)
        return FE_EINVAL;
    char prefix[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    trim_truncated(prefix, sizeof prefix, n);
    char old[sizeof err->msg];
    memcpy(old, err->msg, sizeof old);
    old[sizeof old - 1] = '\0';
    n = snprintf(err->msg, sizeof err->msg, "%s: %s", prefix, old);
    trim_truncated(err->msg, sizeof err->msg, n);
    return err->code;
}

void fe_err_clear(fe_err *err)
{
    if (!err)
        return;
    err->code = FE_OK;
    err->msg[0] = '\0';
}

const char *fe_rc_name(fe_rc code)
{
    switch (code) {
    case FE_OK:
        return "ok";
    case FE_ENOMEM:
        return "nomem";
    case FE_EINVAL:
        return "inval";
    case FE_ECONFIG:
        return "config";
    case FE_EHTTP:
        return "http";
    case FE_EAUTH:
        return "auth";
    case FE_EJSON:
        return "json";
    case FE_EPG:
        return "pg";
    case FE_ECONNECT:
        return "connect";
    case FE_ELOCKED:
        return "locked";
    case FE_EREJECTS:
        return "rejects";
    case FE_EABORT:
        return "abort";
    case FE_EIO:
        return "io";
    case FE_EINTR:
        return "interrupted";
    case FE_EIDENTITY:
        return "identity";
    }
    return "unknown";
}
