#include "sb_mismatch.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const vendor_names[SB_V_COUNT] = {"posiflora", "flowwow", "goflow",
                                                     "flowretail"};

static int vendor_of(const char *s, size_t len)
{
    for (int v = 0; v < SB_V_COUNT; v++)
        if (strlen(vendor_names[v]) == len && memcmp(vendor_names[v], s, len) == 0)
            return v;
    return -1;
}

bool sb_mismatch_parse(sb_mismatch *m, const char *spec, char *err, size_t errlen)
{
    sb_mismatch out = *m;
    unsigned *target = NULL; /* the switch a bare VENDOR continues */
    bool money = false;      /* target is amount-off */
    for (const char *p = spec; *p != '\0';) {
        size_t len = strcspn(p, ",");
        const char *eq = memchr(p, '=', len);
        const char *vendor = p;
        size_t vlen = len;
        if (eq != NULL) {
            size_t nlen = (size_t)(eq - p);
            vendor = eq + 1;
            vlen = len - nlen - 1;
            if (nlen == 10 && memcmp(p, "hide-order", 10) == 0) {
                target = &out.hide_order;
                money = false;
            } else if (nlen == 10 && memcmp(p, "amount-off", 10) == 0) {
                target = &out.amount_off;
                money = true;
            } else {
                snprintf(err, errlen, "unknown switch '%.*s' (hide-order=, amount-off=)", (int)nlen,
                         p);
                return false;
            }
        }
        if (len > 0) {
            int v = vendor_of(vendor, vlen);
            if (target == NULL || v < 0) {
                snprintf(err, errlen,
                         "bad item '%.*s' (NAME=VENDOR, VENDOR "
                         "posiflora|flowwow|goflow|flowretail)",
                         (int)len, p);
                return false;
            }
            if (money && v != SB_V_POSIFLORA) {
                snprintf(err, errlen, "amount-off: only posiflora publishes an amount");
                return false;
            }
            *target |= 1u << v;
        }
        p += len + (p[len] == ',');
    }
    *m = out;
    return true;
}

typedef struct {
    int (*cmp)(size_t a, size_t b, void *ctx);
    void *ctx;
} median_ctx;

static int cmp_positions(const void *a, const void *b, void *c)
{
    const median_ctx *mc = c;
    return mc->cmp(*(const size_t *)a, *(const size_t *)b, mc->ctx);
}

size_t sb_mismatch_median(size_t n, bool (*eligible)(size_t i, void *ctx),
                          int (*cmp)(size_t a, size_t b, void *ctx), void *ctx)
{
    size_t *pos = malloc((n + 1) * sizeof *pos);
    if (pos == NULL)
        return SIZE_MAX;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (eligible == NULL || eligible(i, ctx))
            pos[m++] = i;
    median_ctx mc = {cmp, ctx};
    qsort_r(pos, m, sizeof *pos, cmp_positions, &mc);
    size_t median = m > 0 ? pos[(m - 1) / 2] : n;
    free(pos);
    return median;
}
