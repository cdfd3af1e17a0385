/* sb_server: the sandbox's HTTP side. One libmicrohttpd daemon (internal polling
 * thread pool, epoll where available, keep-alive) routes each request by path
 * prefix to a module (sb_module.h) or to the control endpoints under /_sandbox/,
 * applies the fault switches to API requests, and counts what it answered.
 * slow_ms holds an answer back without holding a pool thread (the connection is
 * suspended, one extra thread resumes it on time), so every request is answered
 * slow_ms after it arrived however many are in flight and however few threads. */
#ifndef SB_SERVER_H
#define SB_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include "sb_fault.h"
#include "sb_hostile.h"
#include "sb_module.h"

typedef struct sb_server sb_server;

/* Creates every module's data (this is the slow part of startup) and the fault and
 * stats state; faults are the settings in force at start. Returns NULL with err
 * filled on failure. Free with sb_server_free. */
sb_server *sb_server_new(const sb_config *cfg, const sb_faults *faults, char *err, size_t errlen);
/* Starts listening on host:port (IPv4; port 0 = a free one) with threads pool
 * threads (they bound the requests computed at once, not the requests waiting
 * out slow_ms); *bound_port gets the real port. Returns false with err filled. */
bool sb_server_start(sb_server *s, const char *host, int port, int threads, int *bound_port,
                     char *err, size_t errlen);
/* Starts the foreign host (sb_hostile.h) on host (IPv4), a free port, one thread.
 * Returns false with err filled. */
bool sb_server_start_foreign(sb_server *s, const char *host, char *err, size_t errlen);
/* Replaces the hostile switches (also POST /_sandbox/hostile). */
void sb_server_set_hostile(sb_server *s, const sb_hostile *h);
/* Stops the daemon (waits for its threads) and frees everything. Accepts NULL. */
void sb_server_free(sb_server *s);

/* True when every comma-separated name in list is an endpoint of some module
 * (malformed= takes endpoint names). */
bool sb_server_known_endpoints(const char *list);

#endif
