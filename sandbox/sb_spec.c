#include "sb_spec.h"

#include <stdio.h>
#include <string.h>

#define SB_SPEC_ITEM_MAX 1024

bool sb_spec_each(const char *spec, size_t item_max, const char *what, sb_spec_set_fn set,
                  void *ctx, char *err, size_t errlen)
{
    char item[SB_SPEC_ITEM_MAX];
    if (item_max > sizeof item)
        item_max = sizeof item;
    for (const char *p = spec; *p != '\0';) {
        const char *amp = strchr(p, '&');
        size_t len = amp != NULL ? (size_t)(amp - p) : strlen(p);
        if (len >= item_max) {
            snprintf(err, errlen, "%s item too long", what);
            return false;
        }
        memcpy(item, p, len);
        item[len] = '\0';
        if (len > 0) {
            char *eq = strchr(item, '=');
            if (eq != NULL)
                *eq = '\0';
            if (!set(ctx, item, eq != NULL ? eq + 1 : NULL, err, errlen))
                return false;
        }
        p += len;
        if (*p == '&')
            p++;
    }
    return true;
}
