/* sources: the registry of source modules, by config `type`. This is the one list of
 * sources: the config keys, the `type` key's documentation and the "unknown source
 * type" message all come from it.
 *
 * Adding a source: one X(NAME) line in FE_SOURCES, for a folder sources/NAME/ whose
 * NAME.c defines `const source_def NAME_source` (tests/skeleton is a template). The
 * order is the order messages list the types in (--help-config lists them
 * alphabetically). */
#include <string.h>

#include "sources/source.h"

#define FE_SOURCES(X)                                                                              \
    X(posiflora)                                                                                   \
    X(goflow)                                                                                      \
    X(flowwow)                                                                                     \
    X(flowretail)                                                                                  \
    /* one line per source, above this one */

#define DECLARE(name) extern const source_def name##_source;
FE_SOURCES(DECLARE)
#undef DECLARE

#define DEF_OF(name) &name##_source,
static const source_def *const all_sources[] = {FE_SOURCES(DEF_OF)};
#undef DEF_OF

#define TYPE_OF(name) &name##_source.type,
static const config_source_type *const all_types[] = {FE_SOURCES(TYPE_OF)};
#undef TYPE_OF

#define NSOURCES (sizeof all_sources / sizeof all_sources[0])

static const config_schema schema = {all_types, NSOURCES};

const source_def *const *source_all(size_t *n)
{
    *n = NSOURCES;
    return all_sources;
}

const source_def *source_find(const char *type)
{
    for (size_t i = 0; i < NSOURCES; i++)
        if (type && strcmp(all_sources[i]->type.name, type) == 0)
            return all_sources[i];
    return NULL;
}

const config_schema *source_schema(void)
{
    return &schema;
}
