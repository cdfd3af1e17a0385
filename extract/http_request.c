/* http_request: one attempt of a transfer as libcurl options, and the rule that
 * credentials stay with their origin (redirects of a request that carries them are
 * followed here, within the origin). Part of the http module: extract/http.h is the
 * contract, extract/http_internal.h what its files share. */
#include <ctype.h>
#include <curl/curl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "extract/http.h"
#include "extract/http_internal.h"

/* ---- origins ---- */

bool http_origin_of(const char *url, http_origin *o)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL;
    bool ok = u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
              curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
              curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
              curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK &&
              strlen(scheme) < sizeof o->scheme && strlen(host) < sizeof o->host;
    if (ok) {
        char *end;
        memset(o, 0, sizeof *o);
        for (size_t i = 0; scheme[i]; i++)
            o->scheme[i] = (char)tolower((unsigned char)scheme[i]);
        for (size_t i = 0; host[i]; i++)
            o->host[i] = (char)tolower((unsigned char)host[i]);
        o->port = strtol(port, &end, 10);
        ok = *end == '\0' && (strcmp(o->scheme, "http") == 0 || strcmp(o->scheme, "https") == 0);
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return ok;
}

bool http_origin_eq(const http_origin *a, const http_origin *b)
{
    return a->port == b->port && strcmp(a->scheme, b->scheme) == 0 && strcmp(a->host, b->host) == 0;
}

void http_origin_text(const http_origin *o, char *dst, size_t size)
{
    long def = strcmp(o->scheme, "https") == 0 ? 443 : 80;
    if (o->port == def)
        snprintf(dst, size, "%s://%s", o->scheme, o->host);
    else
        snprintf(dst, size, "%s://%s:%ld", o->scheme, o->host, o->port);
}

/* ---- credentials ---- */

/* True when one of the request's headers is Authorization (any case). */
static bool has_authorization(const http_request *r)
{
    static const char name[] = "authorization:";
    for (int i = 0; i < r->nheaders; i++) {
        const char *h = r->headers[i];
        if (h && strncasecmp(h, name, sizeof name - 1) == 0)
            return true;
    }
    return false;
}

bool http_xfer_aim(http_client *c, http_xfer *x)
{
    x->credentialed = x->req->body_has_credentials || has_authorization(x->req);
    x->own_redirects =
        x->credentialed && (x->req->body_has_credentials || !x->req->no_auth_on_redirect);
    if (!x->credentialed)
        return true;
    http_origin to;
    bool parsed = http_origin_of(x->req->url, &to);
    if (c->origin_url)
        x->home = c->home;
    else if (parsed)
        x->home = to;
    /* without a configured origin, an unusable URL is libcurl's to refuse */
    if ((parsed || c->origin_url) && (!parsed || !http_origin_eq(&to, &x->home))) {
        http_fail_foreign(c, x, parsed ? &to : NULL, 0);
        return false;
    }
    return true;
}

/* ---- one attempt ---- */

/* The method of the transfer under way: GET after a redirect that made it one. */
const char *http_xfer_method(const http_xfer *x)
{
    if (x->hop_as_get)
        return "GET";
    return x->req->method ? x->req->method : "GET";
}

const char *http_xfer_url(const http_xfer *x)
{
    return x->hop_url ? x->hop_url : x->req->url;
}

#define SETOPT(e, opt, val) (ok = ok && curl_easy_setopt((e), (opt), (val)) == CURLE_OK)

/* Connection, TLS, redirect and timeout options. follow: libcurl follows
 * redirects (requests without credentials, or whose credential may be dropped). */
static bool set_transport(http_client *c, CURL *e, bool follow)
{
    bool ok = true;
    const http_opts *o = &c->opts;
    SETOPT(e, CURLOPT_USERAGENT, c->user_agent);
    SETOPT(e, CURLOPT_ACCEPT_ENCODING, ""); /* every encoding this libcurl decodes */
    SETOPT(e, CURLOPT_PROTOCOLS_STR, "http,https");
    SETOPT(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    SETOPT(e, CURLOPT_FOLLOWLOCATION, follow ? 1L : 0L);
    SETOPT(e, CURLOPT_MAXREDIRS, HTTP_MAX_REDIRECTS);
    /* Off: Authorization and Cookie headers are not sent to another host,
     * port or scheme after a redirect (this is what no_auth_on_redirect relies on). */
    SETOPT(e, CURLOPT_UNRESTRICTED_AUTH, 0L);
    SETOPT(e, CURLOPT_CONNECTTIMEOUT, o->connect_timeout_s);
    SETOPT(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
    SETOPT(e, CURLOPT_LOW_SPEED_TIME, o->low_speed_time_s);
    if (o->request_timeout_us > 0) {
        int64_t ms = (o->request_timeout_us + 999) / 1000;
        SETOPT(e, CURLOPT_TIMEOUT_MS, (long)(ms < LONG_MAX ? ms : LONG_MAX));
    }
    SETOPT(e, CURLOPT_SSL_VERIFYPEER, o->insecure ? 0L : 1L);
    SETOPT(e, CURLOPT_SSL_VERIFYHOST, o->insecure ? 0L : 2L);
    if (c->ca_file)
        SETOPT(e, CURLOPT_CAINFO, c->ca_file);
    SETOPT(e, CURLOPT_NOSIGNAL, 1L);
    SETOPT(e, CURLOPT_TCP_KEEPALIVE, 1L);
    return ok;
}

/* GET, POST with a body, or another method (PATCH, PUT, DELETE) with or without one. */
static bool set_method(CURL *e, const http_xfer *x)
{
    bool ok = true;
    const http_request *r = x->req;
    const char *m = http_xfer_method(x);
    if (strcmp(m, "GET") == 0)
        return curl_easy_setopt(e, CURLOPT_HTTPGET, 1L) == CURLE_OK;
    if (strcmp(m, "POST") != 0)
        SETOPT(e, CURLOPT_CUSTOMREQUEST, m);
    if (r->body || strcmp(m, "POST") == 0) {
        SETOPT(e, CURLOPT_POSTFIELDS, r->body ? r->body : "");
        SETOPT(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(r->body ? r->body_len : 0));
    }
    return ok;
}

bool http_attempt_setup(http_client *c, http_xfer *x)
{
    CURL *e = x->easy;
    bool ok = true;
    curl_easy_reset(e);
    x->status = 0;
    x->sink_rc = FE_OK;
    fe_err_clear(&x->sink_err);
    buf_reset(&x->errbody);
    x->retry_after[0] = '\0';
    x->rl_remaining = x->rl_reset = -1;
    x->errbuf[0] = '\0';

    SETOPT(e, CURLOPT_URL, http_xfer_url(x));
    SETOPT(e, CURLOPT_PRIVATE, x);
    SETOPT(e, CURLOPT_WRITEFUNCTION, http_on_write);
    SETOPT(e, CURLOPT_WRITEDATA, x);
    SETOPT(e, CURLOPT_HEADERFUNCTION, http_on_header);
    SETOPT(e, CURLOPT_HEADERDATA, x);
    SETOPT(e, CURLOPT_ERRORBUFFER, x->errbuf);
    SETOPT(e, CURLOPT_HTTPHEADER, x->headers);
    return ok && set_transport(c, e, !x->own_redirects) && set_method(e, x);
}

/* ---- redirects ---- */

bool http_is_redirect(long status)
{
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

bool http_follow_redirect(http_client *c, http_xfer *x, long status)
{
    char *loc = NULL;
    http_origin to;
    if (curl_easy_getinfo(x->easy, CURLINFO_REDIRECT_URL, &loc) != CURLE_OK || !loc)
        return false;
    if (!http_origin_of(loc, &to)) {
        http_fail_foreign(c, x, NULL, status);
        return true;
    }
    if (!http_origin_eq(&to, &x->home)) {
        http_fail_foreign(c, x, &to, status);
        return true;
    }
    if (x->hops >= HTTP_MAX_REDIRECTS) {
        char what[600];
        http_xfer_what(x, what, sizeof what);
        fe_err_set(&x->res->err, FE_EHTTP, "%s: more than %ld redirects", what, HTTP_MAX_REDIRECTS);
        http_xfer_finish(c, x, FE_EHTTP);
        return true;
    }
    char *next = strdup(loc);
    if (!next) {
        fe_err_set(&x->res->err, FE_ENOMEM, "out of memory following a redirect");
        http_xfer_finish(c, x, FE_ENOMEM);
        return true;
    }
    /* RFC 9110 15.4: 303 means "GET it there"; 301/302 turn a POST into a GET
     * (what every client does); 307/308 repeat the request as it was. */
    if (status == 303 ||
        ((status == 301 || status == 302) && strcmp(http_xfer_method(x), "POST") == 0))
        x->hop_as_get = true;
    free(x->hop_url);
    x->hop_url = next;
    x->hops++;
    x->hop_next = true;
    x->state = XF_WAITING;
    x->start_at_us = 0;
    return true;
}

/* ---- messages ---- */

void http_url_for_message(const char *url, char *dst, size_t size)
{
    CURLU *u = curl_url();
    char *path = NULL, *query = NULL;
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PATH, &path, 0) == CURLUE_OK) {
        curl_url_get(u, CURLUPART_QUERY, &query, 0);
        snprintf(dst, size, "%s%s%s", path, query ? "?" : "", query ? query : "");
    } else {
        snprintf(dst, size, "%s", url);
    }
    curl_free(path);
    curl_free(query);
    curl_url_cleanup(u);
}

void http_xfer_what(const http_xfer *x, char *dst, size_t size)
{
    char where[512];
    http_url_for_message(http_xfer_url(x), where, sizeof where);
    snprintf(dst, size, "%s %s", http_xfer_method(x), where);
}
