/* cmdline: the recorded command line (see cmdline.h). */
#include "app/cmdline.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"

/* Characters that never need quoting in a POSIX shell word. */
static const char plain_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                  "0123456789@%+=:,./_-";

static bool put_quoted(buf *b, const char *arg)
{
    if (*arg && arg[strspn(arg, plain_chars)] == '\0')
        return buf_puts(b, arg);
    if (!buf_putc(b, '\''))
        return false;
    for (const char *p = arg; *p; p++) {
        bool ok = *p == '\'' ? buf_puts(b, "'\\''") : buf_putc(b, *p);
        if (!ok)
            return false;
    }
    return buf_putc(b, '\'');
}

char *cmdline_text(int argc, const char *const *argv)
{
    buf b;
    buf_init(&b, 64 * 1024);
    bool ok = true;
    for (int i = 0; i < argc && ok; i++) {
        /* Redacted before quoting: quoting could split a secret's bytes. */
        char *arg = log_redact_dup(argv[i]);
        ok = arg && (i == 0 || buf_putc(&b, ' ')) && put_quoted(&b, arg);
        free(arg);
    }
    /* A line past the cap (64 KiB) is kept up to the last argument that fit. */
    (void)ok;
    char *text = buf_take(&b, NULL);
    buf_term(&b);
    return text ? text : strdup("");
}
