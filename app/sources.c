/* sources: the registry of source modules, by config `type`. */
#include <string.h>

#include "../extract/flowwow.h"
#include "../extract/flowretail.h"
#include "../extract/goflow.h"
#include "../extract/posiflora.h"
#include "../extract/source.h"

static const source_def *const all_sources[] = {&posiflora_source, &flowwow_source,
                                                &flowretail_source, &goflow_source};
static const char *const all_types[] = {"posiflora", "flowwow", "flowretail", "goflow"};

const source_def *source_find(const char *type)
{
    for (size_t i = 0; i < sizeof all_sources / sizeof all_sources[0]; i++)
        if (type && strcmp(all_sources[i]->type, type) == 0)
            return all_sources[i];
    return NULL;
}

const char *const *source_types(int *n)
{
    *n = (int)(sizeof all_types / sizeof all_types[0]);
    return all_types;
}
