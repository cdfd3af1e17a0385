/* stream_select: which streams a command names. */
#include "app/stream_select.h"

#include <stdio.h>
#include <string.h>

#include "core/log.h"

const stream_def *stream_select_find(const source_def *def, const char *name, size_t len)
{
    for (int i = 0; i < def->nstreams; i++)
        if (strlen(def->streams[i].name) == len && strncmp(def->streams[i].name, name, len) == 0)
            return &def->streams[i];
    return NULL;
}

/* "a, b, c": the type's streams, for an error message. */
static void stream_names(const source_def *def, char *dst, size_t n)
{
    size_t used = 0;
    dst[0] = '\0';
    for (int i = 0; i < def->nstreams && used < n; i++) {
        int w = snprintf(dst + used, n - used, "%s%s", i ? ", " : "", def->streams[i].name);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

bool stream_select_check_configured(const source_config *conf, const source_def *def)
{
    const char *item;
    size_t len;
    for (size_t i = 0; config_list_at(conf, "streams", i, &item, &len); i++) {
        if (stream_select_find(def, item, len))
            continue;
        char names[512];
        stream_names(def, names, sizeof names);
        log_error(NULL, "[source.%s] streams: unknown stream '%.*s' (type %s has: %s)", conf->name,
                  (int)len, item, def->type.name, names);
        return false;
    }
    return true;
}

bool stream_select_is_configured(const source_config *conf, const stream_def *s)
{
    const char *item;
    size_t len;
    if (!config_list_at(conf, "streams", 0, &item, &len))
        return true;
    return config_list_has(conf, "streams", s->name);
}

bool stream_select_target(const config *cfg, const char *target, const source_config **conf,
                          const stream_def **stream)
{
    const char *dot = strchr(target, '.');
    size_t len = dot ? (size_t)(dot - target) : strlen(target);
    *conf = NULL;
    *stream = NULL;
    for (size_t i = 0; i < cfg->nsources && !*conf; i++)
        if (strlen(cfg->sources[i].name) == len && strncmp(cfg->sources[i].name, target, len) == 0)
            *conf = &cfg->sources[i];
    if (!*conf) {
        log_error(NULL, "unknown source '%.*s' in '%s': no [source.%.*s] in the config", (int)len,
                  target, target, (int)len, target);
        return false;
    }
    if (!dot)
        return true;
    const source_def *def = source_find((*conf)->type);
    *stream = stream_select_find(def, dot + 1, strlen(dot + 1));
    if (!*stream) {
        char names[512];
        stream_names(def, names, sizeof names);
        log_error(NULL, "unknown stream '%s' of source '%s' (type %s has: %s)", dot + 1,
                  (*conf)->name, def->type.name, names);
        return false;
    }
    return true;
}
