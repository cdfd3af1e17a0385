/* posiflora_session: login, refresh and the bearer header. See posiflora_session.h. */
#include "sources/posiflora/posiflora_session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "extract/json_fetch.h"
#include "extract/json_stream.h"

/* A session document is small; anything bigger is not one. */
#define SESSION_DOC_MAX ((size_t)256 << 10)
/* Documented access-token lifetime, used when a response lacks expireAt. */
#define DEFAULT_TTL_US (3600LL * 1000000)

struct posiflora_session {
    char *url; /* {base}/v1/sessions */
    char *username, *password;
    char *logctx;
    int64_t margin_us;
    char *access, *refresh;
    buf auth; /* "Authorization: Bearer <access>" */
    int64_t expire_at;
    char orders_method[256]; /* posiflora_session_set_orders_method */
};

/* What one session response carries; the strings are malloc'd. */
typedef struct {
    json_fetch *doc;
    char *access, *refresh, *expire_at;
    bool oom;
} session_reply;

static void wipe_free(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

static void reply_term(session_reply *r)
{
    json_fetch_free(r->doc);
    wipe_free(r->access);
    wipe_free(r->refresh);
    free(r->expire_at);
    memset(r, 0, sizeof *r);
}

/* Keeps one attribute of the "data" record (the last value wins). A token is
 * registered for redaction here, the moment it arrives: from now on no log line,
 * output or stored error can show it (an API error that echoes it included). */
static void reply_keep(session_reply *r, const json_rec *rec, const char *path, char **dst,
                       bool secret)
{
    const char *v = json_rec_str(rec, path);
    if (!v)
        return;
    wipe_free(*dst);
    *dst = NULL;
    if ((secret && !log_add_secret(v)) || !(*dst = strdup(v)))
        r->oom = true;
}

static fe_rc on_session_record(void *ctx, int which, const json_rec *rec, fe_err *err)
{
    session_reply *r = ctx;
    (void)which;
    reply_keep(r, rec, "attributes.accessToken", &r->access, true);
    reply_keep(r, rec, "attributes.refreshToken", &r->refresh, true);
    reply_keep(r, rec, "attributes.expireAt", &r->expire_at, false);
    if (r->oom)
        return fe_err_set(err, FE_ENOMEM, "out of memory reading a session response");
    return FE_OK;
}

static void on_session_reset(void *ctx)
{
    session_reply *r = ctx;
    wipe_free(r->access);
    wipe_free(r->refresh);
    free(r->expire_at);
    r->access = r->refresh = r->expire_at = NULL;
}

posiflora_session *posiflora_session_new(const char *base_url, const char *username,
                                         const char *password, int64_t refresh_margin_us,
                                         const char *logctx)
{
    posiflora_session *s = calloc(1, sizeof *s);
    buf url;
    if (!s)
        return NULL;
    buf_init(&s->auth, 0);
    buf_init(&url, 0);
    if (!buf_puts(&url, base_url) || !buf_puts(&url, "/v1/sessions"))
        goto fail;
    s->url = buf_take(&url, NULL);
    s->username = strdup(username ? username : "");
    s->password = strdup(password ? password : "");
    s->logctx = strdup(logctx ? logctx : "posiflora");
    s->margin_us = refresh_margin_us;
    if (!s->url || !s->username || !s->password || !s->logctx)
        goto fail;
    return s;
fail:
    buf_term(&url);
    posiflora_session_free(s);
    return NULL;
}

static void forget_tokens(posiflora_session *s)
{
    wipe_free(s->access);
    wipe_free(s->refresh);
    s->access = s->refresh = NULL;
    if (s->auth.data)
        explicit_bzero(s->auth.data, s->auth.cap);
    buf_reset(&s->auth);
    s->expire_at = 0;
}

void posiflora_session_free(posiflora_session *s)
{
    if (!s)
        return;
    forget_tokens(s);
    buf_term(&s->auth);
    wipe_free(s->password);
    free(s->username);
    free(s->url);
    free(s->logctx);
    free(s);
}

const char *posiflora_session_auth_header(const posiflora_session *s)
{
    return s->auth.data ? s->auth.data : "";
}

void posiflora_session_set_orders_method(posiflora_session *s, const char *text)
{
    snprintf(s->orders_method, sizeof s->orders_method, "%s", text);
}

const char *posiflora_session_orders_method(const posiflora_session *s)
{
    return s->orders_method;
}

int64_t posiflora_session_expire_at(const posiflora_session *s)
{
    return s->expire_at;
}

/* Takes the tokens of a successful reply. A reply without a refresh token keeps
 * the old one (whether PATCH rotates it is not documented). */
static fe_rc install(posiflora_session *s, session_reply *r, fe_err *err)
{
    int64_t expire_at;
    if (!r->access || !*r->access)
        return fe_err_set(err, FE_EJSON, "session response has no data.attributes.accessToken");
    if (!r->expire_at || !time_parse_iso(r->expire_at, strlen(r->expire_at), &expire_at))
        expire_at = time_now_us() + DEFAULT_TTL_US;
    if (s->auth.data)
        explicit_bzero(s->auth.data, s->auth.cap);
    buf_reset(&s->auth);
    if (!buf_puts(&s->auth, "Authorization: Bearer ") || !buf_puts(&s->auth, r->access))
        return fe_err_set(err, FE_ENOMEM, "out of memory storing the session");
    wipe_free(s->access);
    s->access = r->access;
    r->access = NULL;
    if (r->refresh && *r->refresh) {
        wipe_free(s->refresh);
        s->refresh = r->refresh;
        r->refresh = NULL;
    }
    s->expire_at = expire_at;
    return FE_OK;
}

/* A session request that failed, as a message naming the status only: a session
 * body is not echoed anywhere. */
static fe_rc session_failure(const char *method, const http_result *res, fe_err *err)
{
    if (res->foreign)
        return fe_err_set(err, res->rc, "%s", res->err.msg); /* names no body */
    if (res->status == 401 || res->status == 403)
        return fe_err_set(err, FE_EAUTH, "%s /v1/sessions: refused (HTTP %ld)", method,
                          res->status);
    if (res->status >= 200 && res->status < 300)
        return fe_err_set(err, res->rc, "%s", res->err.msg); /* our own fixed messages */
    if (res->status > 0)
        return fe_err_set(err, FE_EHTTP, "%s /v1/sessions: HTTP %ld after %d attempt(s)", method,
                          res->status, res->attempts);
    return fe_err_set(err, FE_EHTTP, "%s /v1/sessions: %s", method, res->err.msg);
}

/* Sends one session request (body: JSON:API document) and installs the reply. */
static fe_rc session_call(posiflora_session *s, http_client *http, stream_stats *stats,
                          const char *method, const buf *body, fe_err *err)
{
    static const char *const paths[] = {"data"};
    static const char *const headers[] = {"Content-Type: application/vnd.api+json",
                                          "Accept: application/vnd.api+json"};
    session_reply reply = {0};
    http_result res = {0};
    fe_rc rc;

    /* quiet: the parser's own message could quote the body (tokens); the document
     * is finished below, after the status is judged. */
    json_fetch_spec spec = {.paths = paths,
                            .npaths = 1,
                            .max_record_bytes = SESSION_DOC_MAX,
                            .on_record = on_session_record,
                            .on_reset = on_session_reset,
                            .user = &reply,
                            .quiet = "session response"};
    reply.doc = json_fetch_new(&spec);
    if (!reply.doc)
        return fe_err_set(err, FE_ENOMEM, "out of memory starting a session request");
    http_request req = {
        .method = method,
        .url = s->url,
        .headers = headers,
        .nheaders = 2,
        .body = body->data,
        .body_len = body->len,
        .body_has_credentials = true, /* the password or the refresh token */
    };
    rc = json_fetch_run(reply.doc, http, &req, &res, stats, err);
    if (rc != FE_OK)
        goto done;
    if (res.rc != FE_OK) {
        rc = session_failure(method, &res, err);
        goto done;
    }
    fe_err ignored;
    if (json_fetch_finish(reply.doc, &ignored) != FE_OK) {
        rc = fe_err_set(err, FE_EJSON, "%s /v1/sessions: response is not a complete JSON document",
                        method);
        goto done;
    }
    rc = install(s, &reply, err);
done:
    http_result_term(&res);
    reply_term(&reply);
    return rc;
}

/* {"data":{"type":"sessions","attributes":{"k1":"v1"[,"k2":"v2"]}}} into b. */
static bool session_body(buf *b, const char *k1, const char *v1, const char *k2, const char *v2)
{
    bool ok = buf_puts(b, "{\"data\":{\"type\":\"sessions\",\"attributes\":{") &&
              buf_put_jsonstr(b, k1) && buf_putc(b, ':') && buf_put_jsonstr(b, v1);
    if (ok && k2)
        ok = buf_putc(b, ',') && buf_put_jsonstr(b, k2) && buf_putc(b, ':') &&
             buf_put_jsonstr(b, v2);
    return ok && buf_puts(b, "}}}");
}

static void body_wipe(buf *b)
{
    if (b->data)
        explicit_bzero(b->data, b->cap);
    buf_term(b);
}

fe_rc posiflora_session_login(posiflora_session *s, http_client *http, stream_stats *stats,
                              fe_err *err)
{
    buf body;
    fe_rc rc;
    buf_init(&body, 0);
    if (!session_body(&body, "username", s->username, "password", s->password))
        rc = fe_err_set(err, FE_ENOMEM, "out of memory building the login request");
    else
        rc = session_call(s, http, stats, "POST", &body, err);
    body_wipe(&body);
    if (rc == FE_EAUTH)
        fe_err_wrap(err, "login as '%s'", s->username);
    return rc;
}

static fe_rc refresh(posiflora_session *s, http_client *http, stream_stats *stats, fe_err *err)
{
    buf body;
    fe_rc rc;
    if (!s->refresh)
        return fe_err_set(err, FE_EAUTH, "no refresh token");
    buf_init(&body, 0);
    if (!session_body(&body, "refreshToken", s->refresh, NULL, NULL))
        rc = fe_err_set(err, FE_ENOMEM, "out of memory building the refresh request");
    else
        rc = session_call(s, http, stats, "PATCH", &body, err);
    body_wipe(&body);
    return rc;
}

fe_rc posiflora_session_renew(posiflora_session *s, http_client *http, stream_stats *stats,
                              fe_err *err)
{
    fe_err why;
    if (s->refresh && refresh(s, http, stats, &why) == FE_OK)
        return FE_OK;
    if (s->refresh)
        log_warn(s->logctx, "session refresh failed (%s); logging in again", why.msg);
    forget_tokens(s);
    return posiflora_session_login(s, http, stats, err);
}

fe_rc posiflora_session_ensure(posiflora_session *s, http_client *http, stream_stats *stats,
                               fe_err *err)
{
    if (!s->access)
        return posiflora_session_login(s, http, stats, err);
    if (s->expire_at - time_now_us() >= s->margin_us)
        return FE_OK;
    return posiflora_session_renew(s, http, stats, err);
}
