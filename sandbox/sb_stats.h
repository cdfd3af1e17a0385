/* sb_stats: the request counters behind GET /_sandbox/stats. Lock-free (atomic
 * counters), so counting costs the request threads nothing noticeable. Only API
 * requests are counted; control requests are not. */
#ifndef SB_STATS_H
#define SB_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include "sb_buf.h"

typedef struct sb_stats sb_stats;

/* endpoints: the names that get a requests.<name> line (static strings, kept by
 * pointer). Returns NULL when memory ran out. Free with sb_stats_free (accepts NULL). */
sb_stats *sb_stats_new(const char *const *endpoints, size_t nendpoints);
void sb_stats_free(sb_stats *st);

/* Counts one answered API request. endpoint may be NULL (not one of the endpoints);
 * event is an SB_EVENT_* of sb_module.h. */
void sb_stats_count(sb_stats *st, int status, const char *endpoint, bool cut, bool malformed,
                    int event);
void sb_stats_reset(sb_stats *st);
/* Appends every counter as "name\tvalue\n", sorted by name (byte order). */
void sb_stats_render(sb_stats *st, sb_buf *out);

#endif
