/* The table of emulated APIs. Adding a vendor: write sb_<vendor>.c exporting an
 * sb_module, declare it here and list it. */
#include "sb_module.h"

extern const sb_module sb_posiflora_module;

const sb_module *const sb_modules[] = {&sb_posiflora_module, NULL};
