/* sb_mismatch: the --mismatch switches that make a source disagree with what a
 * correct load of it holds, so that tests can prove flowetl's verification
 * (docs/sandbox.md, "Mismatch switches"). They are fixed for the process: the data
 * is generated exactly as without them, and only what the API shows changes.
 *
 *   hide-order=VENDOR   the order with the median id of VENDOR's initial orders
 *                       does not exist for the API (lists, totals, details,
 *                       aggregates, reports); the truth still counts it
 *   amount-off=VENDOR   the order analytics revenue is 0.01 higher than the orders
 *                       it covers (Posiflora only: the only vendor publishing money)
 *
 * VENDOR is posiflora|flowwow|goflow|flowretail. */
#ifndef SB_MISMATCH_H
#define SB_MISMATCH_H

#include <stdbool.h>
#include <stddef.h>

enum sb_vendor { SB_V_POSIFLORA, SB_V_FLOWWOW, SB_V_GOFLOW, SB_V_FLOWRETAIL, SB_V_COUNT };

/* The switches in force: one bit per sb_vendor each. */
typedef struct {
    unsigned hide_order;
    unsigned amount_off;
} sb_mismatch;

/* True when the switch is on for vendor. */
static inline bool sb_mismatch_hides(const sb_mismatch *m, enum sb_vendor v)
{
    return m->hide_order >> v & 1u;
}

static inline bool sb_mismatch_amount_off(const sb_mismatch *m, enum sb_vendor v)
{
    return m->amount_off >> v & 1u;
}

/* Adds the switches of spec to m (so a repeated --mismatch accumulates). spec is
 * a comma list of NAME=VENDOR items; a bare VENDOR continues the previous NAME
 * ("hide-order=posiflora,flowwow"). False, with err filled and m unchanged, for
 * an unknown switch or vendor, or amount-off for a vendor other than posiflora. */
bool sb_mismatch_parse(sb_mismatch *m, const char *spec, char *err, size_t errlen);

/* The position, in 0..n-1, of the lower median of the records i < n for which
 * eligible(i, ctx) holds (NULL: all), ordered by cmp(a, b, ctx) (negative, zero,
 * positive on positions a and b). Returns n when none is eligible, SIZE_MAX when
 * memory ran out. */
size_t sb_mismatch_median(size_t n, bool (*eligible)(size_t i, void *ctx),
                          int (*cmp)(size_t a, size_t b, void *ctx), void *ctx);

#endif
