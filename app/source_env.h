/* source_env: what a source needs to talk to its API during one command: its
 * rate limiter, HTTP client (options from the config) and per-run state (the
 * source module's open/close, e.g. a logged-in session). Shared by `run` and
 * `check` so both talk to the API the same way.
 *
 * The client sends credentials only to the origin of the source's base_url (the
 * module's base_url callback, defaults applied), reports retries and long
 * rate-limit waits as info lines under the source's name, and stops waiting when
 * the run's stop flag is set. */
#ifndef FE_SOURCE_ENV_H
#define FE_SOURCE_ENV_H

#include "core/stop.h"
#include "sources/source.h"

typedef struct {
    const source_config *conf;
    const source_def *def;
    ratelimit *rl;
    bool rl_shared; /* rl belongs to another env */
    http_client *http;
    void *state;        /* from def->open, NULL until opened */
    stream_stats login; /* requests made by open (the session login) */
} source_env;

/* Creates the limiter and the client. Does not contact the API. stop: the run's
 * stop flag (NULL = never stopped); it must outlive env. On failure env is left
 * closed (source_env_term is still safe): FE_ECONFIG when the base URL cannot be
 * worked out, FE_ENOMEM. */
fe_rc source_env_init(source_env *env, const source_config *conf, const source_def *def,
                      const fe_stop *stop, fe_err *err) FE_MUST_CHECK;

/* source_env_init with the limiter of another env (shared, not owned; it must
 * outlive env): a stream thread's own client within the source's one budget. */
fe_rc source_env_init_sharing(source_env *env, const source_config *conf, const source_def *def,
                              const fe_stop *stop, ratelimit *shared, fe_err *err) FE_MUST_CHECK;

/* The same for `flowetl check`, a probe: at most one retry and SOURCE_ENV_CHECK_RETRY_TOTAL
 * for all attempts and waits of one request (Retry-After included), so an API that
 * is down or refuses connections is reported in seconds instead of after the
 * run's minutes of backoff. Timeouts and the rate limit are the configured ones. */
#define SOURCE_ENV_CHECK_RETRY_TOTAL_S 10
fe_rc source_env_init_check(source_env *env, const source_config *conf, const source_def *def,
                            fe_err *err) FE_MUST_CHECK;

/* Calls the module's open (login). */
fe_rc source_env_open(source_env *env, fe_err *err) FE_MUST_CHECK;
/* Closes the state and frees the client and the limiter. Safe on a zeroed env. */
void source_env_term(source_env *env);

#endif
