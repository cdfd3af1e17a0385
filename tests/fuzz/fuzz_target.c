/* fuzz_target: the libFuzzer entry point of one target, chosen at build time with
 * -DFUZZ_TARGET=FUZZ_<NAME> (tests/CMakeLists.txt builds one executable per target
 * when FLOWETL_FUZZ is on). Run: fuzz_goflow -max_total_time=30 NEW_DIR
 * tests/fuzz/corpus/goflow (new inputs go to the first folder). */
#include <stddef.h>
#include <stdint.h>

#include "tests/fuzz/harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_run(FUZZ_TARGET, data, size);
    return 0;
}
