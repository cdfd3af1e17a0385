/* source_env: limiter + HTTP client + module state of one source. */
#include "app/source_env.h"

#include "core/log.h"
#include "extract/ratelimit.h"

#include <math.h>
#include <string.h>

static long seconds_at_least_one(int64_t micros)
{
    long s = (long)(micros / 1000000);
    return s < 1 ? 1 : s;
}

static void http_opts_from_conf(const source_config *c, http_opts *o)
{
    int64_t us;
    long n;
    bool b;

    http_opts_default(o);
    if (config_duration(c, "connect_timeout", &us))
        o->connect_timeout_s = seconds_at_least_one(us);
    if (config_duration(c, "low_speed_timeout", &us))
        o->low_speed_time_s = seconds_at_least_one(us);
    if (config_duration(c, "request_timeout", &us) && us > 0)
        o->request_timeout_us = us;
    if (config_duration(c, "retry_total", &us) && us > 0)
        o->retry_total_us = us;
    if (config_int(c, "max_parallel", &n) && n > 0)
        o->max_parallel = (int)n;
    if (config_int(c, "retries", &n) && n >= 0)
        o->backoff.max_retries = (int)n;
    if (config_int(c, "retry_base_ms", &n) && n > 0)
        o->backoff.base_us = (int64_t)n * 1000;
    if (config_duration(c, "retry_max", &us) && us > 0)
        o->backoff.max_us = us;
    if (config_bool(c, "tls_verify", &b))
        o->insecure = !b;
    o->ca_file = config_str(c, "ca_file");
}

/* The source's limiter: a token bucket of the module's rate and burst, or, with
 * rate_window set, a sliding window of floor(rate x rate_window) requests (at
 * least 1) per rate_window, the dual of an API that counts requests in a
 * sliding window. *rl is NULL on error. */
static fe_rc limiter_from_conf(const source_config *conf, const source_def *def, ratelimit **rl,
                               fe_err *err)
{
    double rate = 5, burst = 5;
    int64_t window_us = 0;

    def->rate(conf, &rate, &burst);
    if (!config_duration(conf, "rate_window", &window_us) || window_us <= 0) {
        *rl = ratelimit_new(rate, burst);
        return *rl ? FE_OK : fe_err_set(err, FE_ENOMEM, "%s: out of memory", conf->name);
    }
    double count = floor(rate * (double)window_us / 1e6 + 1e-9);
    if (count < 1)
        count = 1;
    if (count > RATELIMIT_WINDOW_MAX)
        return fe_err_set(err, FE_ECONFIG,
                          "%s: rate_limit x rate_window allows %.0f requests per window; at most "
                          "%d are supported (shorten rate_window)",
                          conf->name, count, RATELIMIT_WINDOW_MAX);
    *rl = ratelimit_new_window((long)count, window_us);
    return *rl ? FE_OK : fe_err_set(err, FE_ENOMEM, "%s: out of memory", conf->name);
}

/* The client's notifications (requests at debug, retries, long rate-limit
 * waits) as log lines under the source's name, with their fields. */
static void log_http_event(void *ctx, const http_event *ev)
{
    switch (ev->kind) {
    case HTTP_EV_REQUEST:
        log_event(ev->level, ctx, ev->name,
                  LOG_FIELDS(LOG_STR("method", ev->method), LOG_STR("url", ev->url),
                             LOG_INT("status", ev->status), LOG_INT("bytes", ev->bytes),
                             LOG_INT("ms", ev->ms), LOG_INT("attempt", ev->attempt),
                             LOG_STR("error", ev->reason)),
                  "%s", ev->text);
        break;
    case HTTP_EV_RETRY:
        log_event(ev->level, ctx, ev->name,
                  LOG_FIELDS(LOG_STR("method", ev->method), LOG_STR("url", ev->url),
                             LOG_INT("status", ev->status), LOG_INT("attempt", ev->attempt),
                             LOG_INT("max_retries", ev->max_retries),
                             LOG_INT("delay_ms", ev->delay_ms), LOG_STR("reason", ev->reason)),
                  "%s", ev->text);
        break;
    case HTTP_EV_RATE_WAIT:
        log_event(ev->level, ctx, ev->name,
                  LOG_FIELDS(LOG_STR("method", ev->method), LOG_STR("url", ev->url),
                             LOG_INT("delay_ms", ev->delay_ms), LOG_NUM("rate", ev->rate)),
                  "%s", ev->text);
        break;
    }
}

/* A check is a probe: see source_env_init_check. */
static void probe_policy(http_opts *o)
{
    if (o->backoff.max_retries > 1)
        o->backoff.max_retries = 1;
    o->retry_total_us = SOURCE_ENV_CHECK_RETRY_TOTAL_S * 1000000LL;
}

static fe_rc env_init(source_env *env, const source_config *conf, const source_def *def,
                      const fe_stop *stop, bool probe, ratelimit *shared, fe_err *err)
{
    http_opts opts;
    buf base;

    memset(env, 0, sizeof *env);
    env->conf = conf;
    env->def = def;
    buf_init(&base, 0);
    fe_rc rc = def->base_url(conf, &base, err);
    if (rc == FE_OK && shared) {
        env->rl = shared;
        env->rl_shared = true;
    } else if (rc == FE_OK)
        rc = limiter_from_conf(conf, def, &env->rl, err);
    if (rc != FE_OK)
        goto done;
    http_opts_from_conf(conf, &opts);
    opts.origin_url = buf_cstr(&base); /* copied by the client */
    opts.stop = stop;
    opts.on_event = log_http_event;
    opts.event_ctx = conf->name;
    if (probe)
        probe_policy(&opts);
    env->http = http_client_new(&opts, env->rl, err);
    if (!env->http)
        rc = err ? err->code : FE_ENOMEM;
done:
    buf_term(&base);
    if (rc != FE_OK)
        source_env_term(env);
    return rc;
}

fe_rc source_env_init(source_env *env, const source_config *conf, const source_def *def,
                      const fe_stop *stop, fe_err *err)
{
    return env_init(env, conf, def, stop, false, NULL, err);
}

fe_rc source_env_init_sharing(source_env *env, const source_config *conf, const source_def *def,
                              const fe_stop *stop, ratelimit *shared, fe_err *err)
{
    return env_init(env, conf, def, stop, false, shared, err);
}

fe_rc source_env_init_check(source_env *env, const source_config *conf, const source_def *def,
                            fe_err *err)
{
    return env_init(env, conf, def, NULL, true, NULL, err);
}

fe_rc source_env_open(source_env *env, fe_err *err)
{
    if (!env->def->open)
        return FE_OK;
    return env->def->open(env->conf, env->http, &env->login, &env->state, err);
}

void source_env_term(source_env *env)
{
    if (env->def && env->def->close)
        env->def->close(env->state);
    env->state = NULL;
    http_client_free(env->http);
    env->http = NULL;
    if (!env->rl_shared)
        ratelimit_free(env->rl);
    env->rl = NULL;
    env->rl_shared = false;
}
