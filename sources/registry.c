/* sources: the registry of source modules, by config `type`. */
#include <string.h>

#include "sources/flowwow/flowwow.h"
#include "sources/flowretail/flowretail.h"
#include "sources/goflow/goflow.h"
#include "sources/posiflora/posiflora.h"
#include "sources/source.h"

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
