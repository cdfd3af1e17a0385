/* http: the client and its loop (extract/http.h is the contract). This file holds
 * the client (options, the cache of easy handles) and the multi loop of
 * http_run_many: it gives each request a slot, starts attempts as their retry time
 * comes and the rate limiter grants a token, and hands finished ones to
 * http_attempt_done. Building an attempt and the credential rules are in
 * http_request.c, answers and their verdicts in http_response.c;
 * extract/http_internal.h is what the three files share. */
#include "extract/http.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "extract/http_internal.h"
#include "extract/ratelimit.h"

#ifndef FLOWETL_VERSION
#define FLOWETL_VERSION "dev"
#endif

void http_opts_default(http_opts *o)
{
    *o = (http_opts){
        .connect_timeout_s = 10,
        .low_speed_time_s = 60,
        .request_timeout_us = 300 * US_PER_S,
        .retry_total_us = 900 * US_PER_S,
        .max_parallel = 4,
        .backoff = {.base_us = 500000, .max_us = 60000000, .max_retries = 8},
        .user_agent = "flowetl/" FLOWETL_VERSION,
        .ca_file = NULL,
        .insecure = false,
    };
}

void http_result_term(http_result *r)
{
    if (!r)
        return;
    free(r->error_body);
    r->error_body = NULL;
}

bool http_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

void http_global_term(void)
{
    curl_global_cleanup();
}

/* ---- client ---- */

http_client *http_client_new(const http_opts *opts, ratelimit *rl, fe_err *err)
{
    const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
    if (v->version_num < HTTP_MIN_CURL) {
        fe_err_set(err, FE_ECONFIG, "libcurl %s is too old: 7.83.0 or newer is required",
                   v->version);
        return NULL;
    }
    http_opts def;
    http_opts_default(&def);
    if (!opts)
        opts = &def;
    http_client *c = calloc(1, sizeof *c);
    if (!c)
        goto nomem;
    c->opts = *opts;
    http_opts *o = &c->opts;
    if (o->connect_timeout_s <= 0)
        o->connect_timeout_s = 10;
    if (o->low_speed_time_s <= 0)
        o->low_speed_time_s = 60;
    if (o->request_timeout_us < 0)
        o->request_timeout_us = 0;
    if (o->retry_total_us < 0)
        o->retry_total_us = 0;
    if (o->max_parallel <= 0)
        o->max_parallel = 1;
    c->rl = rl;
    c->user_agent = strdup(opts->user_agent ? opts->user_agent : def.user_agent);
    c->ca_file = opts->ca_file ? strdup(opts->ca_file) : NULL;
    c->origin_url = opts->origin_url ? strdup(opts->origin_url) : NULL;
    c->idle = calloc((size_t)o->max_parallel, sizeof *c->idle);
    c->multi = curl_multi_init();
    if (!c->user_agent || (opts->ca_file && !c->ca_file) || (opts->origin_url && !c->origin_url) ||
        !c->idle || !c->multi)
        goto nomem;
    o->user_agent = c->user_agent;
    o->ca_file = c->ca_file;
    o->origin_url = c->origin_url;
    if (c->origin_url && !http_origin_of(c->origin_url, &c->home)) {
        fe_err_set(err, FE_ECONFIG, "base URL '%.200s' is not an http or https URL", c->origin_url);
        http_client_free(c);
        return NULL;
    }
    /* Seeded per client from the clock and its address: jitter differs between
     * workers without any shared state. */
    c->rng = (uint64_t)ratelimit_now_us() ^ (uint64_t)(uintptr_t)c;
    return c;
nomem:
    http_client_free(c);
    fe_err_set(err, FE_ENOMEM, "out of memory creating the HTTP client");
    return NULL;
}

void http_client_free(http_client *c)
{
    if (!c)
        return;
    for (int i = 0; i < c->nidle; i++)
        curl_easy_cleanup(c->idle[i]);
    if (c->multi)
        curl_multi_cleanup(c->multi);
    free(c->idle);
    free(c->user_agent);
    free(c->ca_file);
    free(c->origin_url);
    free(c);
}

void http_client_opts(const http_client *c, http_opts *out)
{
    *out = c->opts;
}

fe_rc http_sleep(http_client *c, int64_t us, fe_err *err)
{
    int64_t end = ratelimit_now_us() + us;
    for (;;) {
        if (fe_stop_requested(c->opts.stop))
            return fe_err_set(err, FE_EINTR, "interrupted");
        int64_t left = end - ratelimit_now_us();
        if (left <= 0)
            return FE_OK;
        if (left > US_PER_S)
            left = US_PER_S;
        struct timespec ts = {.tv_sec = (time_t)(left / US_PER_S),
                              .tv_nsec = (long)(left % US_PER_S) * 1000};
        nanosleep(&ts, NULL); /* woken early by a signal: the loop looks again */
    }
}

static CURL *easy_get(http_client *c)
{
    return c->nidle > 0 ? c->idle[--c->nidle] : curl_easy_init();
}

void http_easy_put(http_client *c, CURL *e)
{
    if (!e)
        return;
    if (c->nidle < c->opts.max_parallel)
        c->idle[c->nidle++] = e;
    else
        curl_easy_cleanup(e);
}

/* ---- the loop ---- */

/* Takes a slot for x: an easy handle and its header list. A request with
 * credentials aimed outside their origin ends here, unsent. */
static fe_rc xfer_open(http_client *c, http_xfer *x)
{
    x->easy = easy_get(c);
    if (!x->easy)
        goto nomem;
    for (int i = 0; i < x->req->nheaders; i++) {
        struct curl_slist *l = curl_slist_append(x->headers, x->req->headers[i]);
        if (!l)
            goto nomem;
        x->headers = l;
    }
    x->state = XF_WAITING;
    x->start_at_us = 0;
    return http_xfer_aim(c, x) ? FE_OK : FE_EHTTP;
nomem:
    fe_err_set(&x->res->err, FE_ENOMEM, "out of memory starting a request");
    http_xfer_finish(c, x, FE_ENOMEM);
    return FE_ENOMEM;
}

/* A retry that comes due after retry_total has passed (a rate-limit wait, or a
 * backoff overshot by a slow process) ends here. */
static bool out_of_time_waiting(http_client *c, http_xfer *x, int64_t now)
{
    int64_t total = c->opts.retry_total_us;
    if (total <= 0 || x->first_start_us == 0 || now < x->first_start_us + total)
        return false;
    char total_text[32], note[128];
    http_fmt_span(total, total_text, sizeof total_text);
    /* The wait may have been the rate limiter's or a backoff that a slow process
     * overshot: name neither, the note is about the budget. */
    snprintf(note, sizeof note, "retry_total %s used up before the next attempt could start",
             total_text);
    if (x->status)
        http_fail_status(c, x, note);
    else
        http_fail_transport(c, x, x->last_cc, note);
    return true;
}

/* Reports a rate-limit wait over a second, once per attempt of x. */
static void notify_rate_wait(http_client *c, http_xfer *x, int64_t wait)
{
    char what[600], w[32], rate[48];
    http_xfer_what(x, what, sizeof what);
    http_fmt_wait(wait, w, sizeof w);
    http_fmt_rate(ratelimit_rate(c->rl), rate, sizeof rate);
    http_event ev = {.kind = HTTP_EV_RATE_WAIT,
                     .level = LOG_INFO,
                     .name = "rate_limit_wait",
                     .delay_ms = wait / 1000,
                     .rate = ratelimit_rate(c->rl)};
    http_notify(c, x, &ev, "waiting %s for the rate limit (%s) before %s", w, rate, what);
    x->rl_logged = true;
}

/* Starts the waiting transfers whose time has come, while the limiter grants
 * tokens. Returns how long the loop may sleep before something can start. */
static int64_t start_due(http_client *c, http_xfer *xs, size_t n, fe_err *err, fe_rc *fatal)
{
    int64_t sleep_us = HTTP_POLL_MAX_MS * 1000LL;
    int64_t now = ratelimit_now_us();
    bool limited = false;
    for (size_t i = 0; i < n; i++) {
        http_xfer *x = &xs[i];
        if (x->state != XF_WAITING)
            continue;
        if (x->start_at_us > now) {
            if (x->start_at_us - now < sleep_us)
                sleep_us = x->start_at_us - now;
            continue;
        }
        if (out_of_time_waiting(c, x, now)) {
            sleep_us = 0;
            continue;
        }
        int64_t wait = limited ? 1 : c->rl ? ratelimit_try_acquire(c->rl) : 0;
        if (wait > 0) {
            if (!limited && wait > US_PER_S && !x->rl_logged)
                notify_rate_wait(c, x, wait);
            /* first come, first served: later transfers do not overtake */
            limited = true;
            if (wait < sleep_us)
                sleep_us = wait;
            continue;
        }
        if (!http_attempt_setup(c, x)) {
            fe_err_set(&x->res->err, FE_ENOMEM, "libcurl refused a transfer option");
            http_xfer_finish(c, x, FE_ENOMEM);
            sleep_us = 0;
            continue;
        }
        CURLMcode mc = curl_multi_add_handle(c->multi, x->easy);
        if (mc != CURLM_OK) {
            *fatal =
                fe_err_set(err, FE_EHTTP, "curl_multi_add_handle: %s", curl_multi_strerror(mc));
            return 0;
        }
        x->state = XF_RUNNING;
        x->attempt_start_us = now;
        if (x->first_start_us == 0)
            x->first_start_us = now;
        if (!x->hop_next)
            x->res->attempts++;
        x->hop_next = false;
        if (x->stats)
            x->stats->requests++;
    }
    return sleep_us;
}

/* Hands finished attempts to http_attempt_done. Returns how many finished. */
static int collect_done(http_client *c)
{
    int finished = 0, left;
    CURLMsg *m;
    while ((m = curl_multi_info_read(c->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        CURL *e = m->easy_handle;
        CURLcode cc = m->data.result;
        http_xfer *x = NULL;
        curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&x);
        curl_multi_remove_handle(c->multi, e);
        x->last_cc = cc;
        http_attempt_done(c, x, cc);
        finished++;
    }
    return finished;
}

static size_t count_done(const http_xfer *xs, size_t n)
{
    size_t done = 0;
    for (size_t i = 0; i < n; i++)
        done += xs[i].state == XF_DONE;
    return done;
}

/* After a stop or a fatal multi error: every transfer not done yet fails with
 * err, prefixed with its method and URL; running ones are abandoned. */
static void abandon_all(http_client *c, http_xfer *xs, size_t n, const fe_err *err)
{
    for (size_t i = 0; i < n; i++) {
        http_xfer *x = &xs[i];
        if (x->state == XF_DONE)
            continue;
        if (x->state == XF_RUNNING)
            curl_multi_remove_handle(c->multi, x->easy);
        char what[600];
        http_xfer_what(x, what, sizeof what);
        fe_err_set(&x->res->err, err->code, "%s: %s", what, err->msg);
        http_xfer_finish(c, x, err->code);
    }
}

/* Runs the transfers of xs to completion. Returns FE_OK, FE_EINTR when the stop
 * flag was set, or the code of a libcurl multi failure (fatal filled), after
 * which nothing can go on. */
static fe_rc drive(http_client *c, http_xfer *xs, size_t n, fe_err *fatal)
{
    fe_rc rc = FE_OK;
    size_t next = 0; /* requests before this one have been given a slot */
    for (;;) {
        if (fe_stop_requested(c->opts.stop))
            return fe_err_set(fatal, FE_EINTR, "interrupted");
        size_t done = count_done(xs, next);
        while (next - done < (size_t)c->opts.max_parallel && next < n) {
            if (xfer_open(c, &xs[next++]) != FE_OK)
                done++;
        }
        if (done == n)
            return FE_OK;
        int64_t sleep_us = start_due(c, xs, next, fatal, &rc);
        if (rc != FE_OK)
            return rc;
        int running = 0;
        CURLMcode mc = curl_multi_perform(c->multi, &running);
        if (mc != CURLM_OK)
            return fe_err_set(fatal, FE_EHTTP, "curl_multi_perform: %s", curl_multi_strerror(mc));
        if (collect_done(c) > 0)
            continue; /* retries and free slots: look again before sleeping */
        int timeout_ms = (int)((sleep_us + 999) / 1000);
        mc = curl_multi_poll(c->multi, NULL, 0, timeout_ms, NULL);
        if (mc != CURLM_OK)
            return fe_err_set(fatal, FE_EHTTP, "curl_multi_poll: %s", curl_multi_strerror(mc));
    }
}

fe_rc http_run_many(http_client *c, const http_request *reqs, http_result *res, size_t n,
                    stream_stats *stats, fe_err *err)
{
    for (size_t i = 0; i < n; i++)
        memset(&res[i], 0, sizeof res[i]);
    if (n == 0)
        return FE_OK;
    http_xfer *xs = calloc(n, sizeof *xs);
    if (!xs) {
        for (size_t i = 0; i < n; i++)
            res[i].rc = fe_err_set(&res[i].err, FE_ENOMEM, "out of memory");
        return fe_err_set(err, FE_ENOMEM, "out of memory starting %zu requests", n);
    }
    for (size_t i = 0; i < n; i++) {
        xs[i] = (http_xfer){.req = &reqs[i], .res = &res[i], .stats = stats, .state = XF_IDLE};
        buf_init(&xs[i].errbody, HTTP_ERROR_BODY_MAX);
    }
    fe_err fatal = {0};
    fe_rc rc = drive(c, xs, n, &fatal);
    if (rc != FE_OK) {
        abandon_all(c, xs, n, &fatal);
        if (err)
            *err = fatal;
    }
    for (size_t i = 0; i < n; i++)
        buf_term(&xs[i].errbody);
    free(xs);
    return rc;
}

fe_rc http_run(http_client *c, const http_request *req, http_result *res, stream_stats *stats,
               fe_err *err)
{
    return http_run_many(c, req, res, 1, stats, err);
}
