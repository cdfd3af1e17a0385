/* harness: what each fuzz target does with one input, shared by the libFuzzer
 * entry point (fuzz_target.c, built with clang -fsanitize=fuzzer) and by the
 * corpus replay test (replay.c, built by every compiler and run by ctest).
 *
 * Targets:
 *   json_stream       arbitrary bytes: the first byte picks the record paths, the
 *                     record cap and JSON Lines, the next four seed a chunking;
 *                     the document is fed whole and in those chunks, and both
 *                     must give the same records and the same outcome, with
 *                     every record within the cap;
 *   posiflora         a JSON:API list page: data[] and included[] records through
 *                     every Posiflora dimension mapping;
 *   posiflora_order   an order detail document through the order accumulator;
 *   flowwow           shops[] and items[] records (shops, products, orders);
 *   goflow            data[] records (stores, warehouses, products, orders, and
 *                     report rows for goflow_map_inventory);
 *   flowretail        items[], products[] and the root record (products, stock,
 *                     slots, categories), scales picked by the input.
 * Each mapper target checks every mapping call: the code is FE_OK or FE_EINVAL;
 * a refusal hands over no row and gives a one-line UTF-8 reason; every row handed
 * over passes the oracle (oracle.h) in the COPY form the loader would stage. It
 * then runs the input again with each \u0000 escape turned into \u0001: a call
 * that mapped a record holding a NUL must come out the same, or the mapping read
 * a value cut at the NUL (the rule is to refuse such records).
 * A failure prints what went wrong on stderr and aborts (the fuzzer keeps the
 * input; the replay test fails). */
#ifndef FE_FUZZ_HARNESS_H
#define FE_FUZZ_HARNESS_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    FUZZ_JSON_STREAM,
    FUZZ_POSIFLORA,
    FUZZ_POSIFLORA_ORDER,
    FUZZ_FLOWWOW,
    FUZZ_GOFLOW,
    FUZZ_FLOWRETAIL,
    FUZZ__COUNT
} fuzz_target;

/* The target's name (its corpus folder under tests/fuzz/corpus/), or NULL. */
const char *fuzz_target_name(fuzz_target t);
/* The target named name, or -1. */
int fuzz_target_find(const char *name);

/* Runs one input through the target; returns only when every check held. */
void fuzz_run(fuzz_target t, const uint8_t *data, size_t size);

#endif
