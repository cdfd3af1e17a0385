/* source_env: what a source needs to talk to its API during one command: its
 * rate limiter, HTTP client (options from the config) and per-run state (the
 * source module's open/close, e.g. a logged-in session). Shared by `run` and
 * `check` so both talk to the API the same way. */
#ifndef FE_SOURCE_ENV_H
#define FE_SOURCE_ENV_H

#include "../extract/source.h"

typedef struct {
    const source_conf *conf;
    const source_def *def;
    ratelimit *rl;
    http_client *http;
    void *state;         /* from def->open, NULL until opened */
    stream_stats login;  /* requests made by open (the session login) */
    const fe_stop *stop; /* the run's stop flag, NULL = never stopped */
} source_env;

/* Creates the limiter and the client. Does not contact the API. stop: the run's
 * stop flag for the client's waits (NULL outside `run`). On failure env is left
 * closed (source_env_close is still safe). */
fe_rc source_env_init(source_env *env, const source_conf *conf, const source_def *def,
                      const fe_stop *stop, fe_err *err) FE_MUST_CHECK;
/* Calls the module's open (login). */
fe_rc source_env_open(source_env *env, fe_err *err) FE_MUST_CHECK;
/* Closes the state and frees the client and the limiter. Safe on a zeroed env. */
void source_env_term(source_env *env);

#endif
