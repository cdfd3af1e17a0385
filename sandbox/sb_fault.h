/* sb_fault: the fault switches of the sandbox (SPEC of --faults and
 * POST /_sandbox/faults) and the deterministic draws that apply them to API
 * requests. Control endpoints never fault. */
#ifndef SB_FAULT_H
#define SB_FAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SB_FAULT_MALFORMED_MAX 256
/* Largest per-second request budget (budget=N): the window keeps N timestamps. */
#define SB_FAULT_BUDGET_MAX 100000

/* The settings; sb_faults_clear() gives "no faults". */
typedef struct {
    double p429;     /* probability of a 429 */
    int retry_after; /* seconds in Retry-After (default 1) */
    double p500;     /* probability that a request starts a burst of 500s */
    int burst500;    /* length of a burst (0 = unset: bursts of 1); alone (p500 = 0)
                      * it means "the next N API requests answer 500" */
    double pcut;     /* probability of a body cut off mid-way */
    char malformed[SB_FAULT_MALFORMED_MAX]; /* comma list of endpoint names, "" none */
    int token_ttl;     /* access-token lifetime in seconds, 0 = the API's own */
    bool refresh_fail; /* token refresh answers 401 */
    int slow_ms;       /* delay before each API response */
    uint64_t seed;     /* seed of the fault PRNG (default 1) */
    int budget;        /* at most this many API requests are answered within any
                        * 1-second window (sliding, judged at arrival); the rest
                        * get a 429 with Retry-After. 0 = no budget. Refused
                        * requests do not use up the budget. */
    /* Posiflora's orders list under include= (docs/sandbox.md): "" the vendor's
     * (payments and payments.method honoured, lines not), "lines" (lines honoured
     * too), "partial" (lines honoured, but every fifth order's lines left out of
     * included), "none" (include ignored), "refuse" (any include answers 400). */
    char pf_list_include[8];
    /* Flow Retail lists (docs/sandbox.md, "Page sizes"): serve at most fr_page_cap
     * items a page whatever pageSize asks (0 = no cap: 1..1000 honoured), silently;
     * paging.pageSize says the size served, or with fr_page_cap_echo the size asked. */
    int fr_page_cap;
    bool fr_page_cap_echo;
} sb_faults;

typedef enum { SB_FAULT_NONE = 0, SB_FAULT_429, SB_FAULT_500 } sb_fault_kind;

void sb_faults_clear(sb_faults *f);
/* Applies one SPEC item (value may be NULL for "key" without '='). Returns false
 * with a message in err for an unknown key or a bad value (f may be half-updated:
 * parse into a scratch copy). Endpoint names in malformed= are not checked here. */
bool sb_faults_set(sb_faults *f, const char *key, const char *value, char *err, size_t errlen);
/* Parses a whole SPEC "k=v&k=v" (no percent-decoding; "" = no faults) into f,
 * starting from no faults. */
bool sb_faults_parse_spec(sb_faults *f, const char *spec, char *err, size_t errlen);
/* True when name is one of the comma-separated names in list. */
bool sb_faults_list_has(const char *list, const char *name);
/* Writes the settings as "name\tvalue\n" lines into out (truncated to outlen). */
void sb_faults_describe(const sb_faults *f, char *out, size_t outlen);

/* The live fault state shared by the request threads (mutex inside). */
typedef struct sb_fault_state sb_fault_state;

/* Returns a state with no faults, or NULL when memory ran out. Free with
 * sb_fault_state_free (accepts NULL). */
sb_fault_state *sb_fault_state_new(void);
void sb_fault_state_free(sb_fault_state *st);
/* Replaces the settings and restarts the fault PRNG from their seed. */
void sb_fault_state_set(sb_fault_state *st, const sb_faults *f);
/* Draws the fate of one API request: copies the settings in force into snap, and
 * returns a 429, a 500 or NONE; *cut says whether a NONE request's body is to be
 * cut off. The request budget is judged first (a request over it is a 429 without
 * a PRNG draw), then the probabilities. */
sb_fault_kind sb_fault_draw(sb_fault_state *st, sb_faults *snap, bool *cut);

#endif
