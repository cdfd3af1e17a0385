/* The table of emulated APIs. Adding a vendor: write sb_<vendor>.c exporting an
 * sb_module, declare it here and list it. */
#include "sb_module.h"

extern const sb_module sb_posiflora_module;
extern const sb_module sb_flowwow_module;
extern const sb_module sb_flowretail_module;
extern const sb_module sb_goflow_module;

const sb_module *const sb_modules[] = {&sb_posiflora_module, &sb_flowretail_module,
                                       &sb_flowwow_module, &sb_goflow_module, NULL};
