/* stream_select: which streams a command names. `run` and `status` take the same
 * targets ("SOURCE" or "SOURCE.STREAM") and honour the same `streams` key, so
 * both resolve them here and give the same errors. */
#ifndef FE_STREAM_SELECT_H
#define FE_STREAM_SELECT_H

#include <stdbool.h>
#include <stddef.h>

#include "sources/source.h"
#include "core/config.h"

/* The stream of def called name[0..len), or NULL. */
const stream_def *stream_select_find(const source_def *def, const char *name, size_t len);

/* True when every name in the source's `streams` key is a stream of its type;
 * otherwise logs the first unknown name with the type's streams. A typo there
 * would otherwise skip a stream every night, silently. */
bool stream_select_check_configured(const source_config *conf, const source_def *def);

/* True when the config enables the stream: `streams` names it, or is unset. */
bool stream_select_is_configured(const source_config *conf, const stream_def *s);

/* Resolves a target against the config: *conf is the source, *stream the named
 * stream, or NULL for a bare "SOURCE" (meaning its configured streams). False,
 * after logging why, for an unknown source or stream. */
bool stream_select_target(const config *cfg, const char *target, const source_config **conf,
                          const stream_def **stream);

#endif
