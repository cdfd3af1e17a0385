/* Posiflora sessions: POST /v1/sessions (login), PATCH /v1/sessions (refresh) and
 * the Bearer check of every other request.
 *
 * Access tokens look like the vendor's RS256 JWTs (header.payload.signature,
 * base64url; claims iat, exp, customer, id, login) but are signed with a keyed
 * hash of this process, and carry the issue time in milliseconds in "jti". They
 * are valid for 3600 s of real time, or token_ttl seconds while that fault is set
 * (checked against the current setting, so setting the fault expires old tokens
 * too). Refresh tokens are UUID-shaped, also self-signed, valid for 30 days;
 * a refresh issues a new pair and the old refresh token stays valid. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yajl/yajl_tree.h>
#include "sb_pf.h"
#include "sb_time.h"

#define ACCESS_TTL_S 3600
#define REFRESH_TTL_MS (INT64_C(30) * SB_DAY * 1000)
#define USERNAME "demo"
#define PASSWORD "demo-secret"

/* base64url of {"typ":"JWT","alg":"RS256"}, as in the vendor's tokens. */
static const char JWT_HEADER[] = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9";
static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void pf_auth_init(pf_auth *a, uint64_t seed)
{
    a->secret = sb_hash64(seed, (uint64_t)sb_time_real_ms());
    atomic_init(&a->serial, 0);
    pthread_mutex_init(&a->issued_mu, NULL);
    memset(a->issued, 0, sizeof a->issued);
    a->next_issued = 0;
}

void pf_auth_term(pf_auth *a)
{
    for (size_t i = 0; i < PF_ISSUED_MAX; i++)
        free(a->issued[i]);
    pthread_mutex_destroy(&a->issued_mu);
}

/* Remembers a token issued (a copy; the oldest is forgotten when the ring is full). */
static void remember_issued(pf_auth *a, const char *token)
{
    char *copy = strdup(token);
    pthread_mutex_lock(&a->issued_mu);
    free(a->issued[a->next_issued]);
    a->issued[a->next_issued] = copy;
    a->next_issued = (a->next_issued + 1) % PF_ISSUED_MAX;
    pthread_mutex_unlock(&a->issued_mu);
}

void pf_auth_secrets(pf_auth *a, sb_buf *out)
{
    sb_buf_puts(out, PASSWORD "\n");
    pthread_mutex_lock(&a->issued_mu);
    for (size_t i = 0; i < PF_ISSUED_MAX; i++)
        if (a->issued[i] != NULL)
            sb_buf_printf(out, "%s\n", a->issued[i]);
    pthread_mutex_unlock(&a->issued_mu);
}

static void b64url_put(sb_buf *b, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        size_t chars = n - i >= 3 ? 4 : n - i + 1;
        for (size_t k = 0; k < chars; k++)
            sb_buf_putc(b, B64[(v >> (18 - 6 * k)) & 63]);
    }
}

/* Decodes base64url text s[0..n) into out (capacity cap, NUL-terminated).
 * Returns false on a bad character or when out is too small. */
static bool b64url_decode(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        const char *pos = strchr(B64, s[i]);
        if (pos == NULL || s[i] == '\0')
            return false;
        acc = acc << 6 | (uint32_t)(pos - B64);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o + 1 >= cap)
                return false;
            out[o++] = (char)(acc >> bits & 0xff);
        }
    }
    out[o] = '\0';
    return true;
}

/* A keyed 64-bit digest of s[0..n). */
static uint64_t mac(const pf_auth *a, const char *s, size_t n)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325); /* FNV-1a, then keyed mixing */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * UINT64_C(0x100000001b3);
    return sb_hash64(a->secret, h);
}

/* The 64-byte signature segment of a payload segment, base64url. */
static void put_signature(const pf_auth *a, sb_buf *b, const char *payload, size_t n)
{
    unsigned char sig[64];
    uint64_t m = mac(a, payload, n);
    for (int i = 0; i < 8; i++) {
        uint64_t w = sb_hash64(m, (uint64_t)i);
        memcpy(sig + 8 * i, &w, 8);
    }
    b64url_put(b, sig, sizeof sig);
}

static void put_access_token(pf_auth *a, const pf_data *d, sb_buf *out, int64_t now_ms, int ttl)
{
    char user[PF_ID_LEN + 1], claims[256];
    pf_id(d, PF_K_USER, 0, user);
    int n = snprintf(claims, sizeof claims,
                     "{\"iat\":%lld,\"exp\":%lld,\"customer\":\"1\",\"id\":\"%s\","
                     "\"login\":\"" USERNAME "\",\"jti\":\"%lld-%u\"}",
                     (long long)(now_ms / 1000), (long long)(now_ms / 1000 + ttl), user,
                     (long long)now_ms, atomic_fetch_add(&a->serial, 1));
    sb_buf payload;
    sb_buf_init(&payload, 256);
    b64url_put(&payload, (const unsigned char *)claims, (size_t)n);
    sb_buf_puts(out, JWT_HEADER);
    sb_buf_putc(out, '.');
    sb_buf_put(out, payload.data, payload.len);
    sb_buf_putc(out, '.');
    put_signature(a, out, payload.data, payload.len);
    if (sb_buf_failed(&payload))
        out->failed = true;
    sb_buf_term(&payload);
}

/* 12 hex digits of issue time (ms), 4 of serial, 16 of signature: 8-4-4-4-12. */
static void refresh_token(pf_auth *a, int64_t now_ms, char *out)
{
    uint64_t head = (uint64_t)now_ms << 16 | (atomic_fetch_add(&a->serial, 1) & 0xffff);
    uint64_t sig = sb_hash64(a->secret ^ UINT64_C(0x5eed5eed), head);
    snprintf(out, PF_ID_LEN + 1, "%08x-%04x-%04x-%04x-%012llx", (unsigned)(head >> 32),
             (unsigned)(head >> 16 & 0xffff), (unsigned)(head & 0xffff), (unsigned)(sig >> 48),
             (unsigned long long)(sig & UINT64_C(0xffffffffffff)));
}

static bool refresh_valid(const pf_auth *a, const char *token, int64_t now_ms)
{
    unsigned h1, h2, h3, s1;
    unsigned long long s2;
    int used = 0;
    if (strlen(token) != PF_ID_LEN ||
        sscanf(token, "%8x-%4x-%4x-%4x-%12llx%n", &h1, &h2, &h3, &s1, &s2, &used) != 5 ||
        used != PF_ID_LEN)
        return false;
    uint64_t head = (uint64_t)h1 << 32 | (uint64_t)h2 << 16 | h3;
    uint64_t sig = sb_hash64(a->secret ^ UINT64_C(0x5eed5eed), head);
    if ((uint64_t)s1 != sig >> 48 || s2 != (sig & UINT64_C(0xffffffffffff)))
        return false;
    int64_t issued_ms = (int64_t)(head >> 16);
    return now_ms < issued_ms + REFRESH_TTL_MS;
}

static void unauthorized(sb_response *resp, const char *detail)
{
    pf_error(resp, 401, "Unauthorized", detail, NULL);
}

/* Answers 200 with a fresh session document. */
static void session_doc(pf_auth *a, const pf_data *d, const sb_request *req, sb_response *resp)
{
    int64_t now_ms = sb_time_real_ms();
    int ttl = req->faults->token_ttl > 0 ? req->faults->token_ttl : ACCESS_TTL_S;
    char iso[32], refresh[PF_ID_LEN + 1], worker[PF_ID_LEN + 1];
    sb_buf access;
    sb_buf_init(&access, 512);
    put_access_token(a, d, &access, now_ms, ttl);
    refresh_token(a, now_ms, refresh);
    if (!sb_buf_failed(&access))
        remember_issued(a, sb_buf_cstr(&access));
    remember_issued(a, refresh);
    pf_id(d, PF_K_WORKER, 0, worker);
    sb_json j;
    sb_json_init(&j, &resp->body);
    sb_json_obj(&j);
    sb_json_key(&j, "data");
    sb_json_obj(&j);
    sb_json_kstr(&j, "type", "sessions");
    sb_json_kstr(&j, "id", "current");
    sb_json_key(&j, "attributes");
    sb_json_obj(&j);
    sb_time_iso(now_ms / 1000 + ttl, iso);
    sb_json_kstr(&j, "expireAt", iso);
    sb_time_iso((now_ms + REFRESH_TTL_MS) / 1000, iso);
    sb_json_kstr(&j, "refreshExpireAt", iso);
    sb_json_kstr(&j, "accessToken", sb_buf_cstr(&access));
    sb_json_kstr(&j, "refreshToken", refresh);
    sb_json_kint(&j, "saasCustomerId", 1);
    sb_json_end(&j);
    sb_json_key(&j, "relationships");
    sb_json_obj(&j);
    sb_json_key(&j, "worker");
    sb_json_obj(&j);
    sb_json_key(&j, "data");
    sb_json_obj(&j);
    sb_json_kstr(&j, "type", "workers");
    sb_json_kstr(&j, "id", worker);
    sb_json_end(&j);
    sb_json_end(&j);
    sb_json_end(&j);
    sb_json_end(&j);
    sb_json_end(&j);
    if (sb_buf_failed(&access))
        resp->body.failed = true;
    sb_buf_term(&access);
    resp->status = 200;
}

static yajl_val parse_body(const sb_request *req)
{
    char err[128];
    return yajl_tree_parse(req->body, err, sizeof err);
}

/* data.attributes.<name> of a parsed session document, or NULL. */
static const char *attribute(yajl_val tree, const char *name)
{
    const char *path[] = {"data", "attributes", name, NULL};
    return YAJL_GET_STRING(yajl_tree_get(tree, path, yajl_t_string));
}

void pf_auth_login(pf_auth *a, const pf_data *d, const sb_request *req, sb_response *resp)
{
    yajl_val tree = parse_body(req);
    if (tree == NULL) {
        pf_error(resp, 400, "Bad Request", "Request body is not valid JSON", NULL);
        return;
    }
    const char *user = attribute(tree, "username"), *pass = attribute(tree, "password");
    if (user == NULL || pass == NULL || strcmp(user, USERNAME) != 0 ||
        strcmp(pass, PASSWORD) != 0) {
        unauthorized(resp, "Invalid credentials");
    } else {
        session_doc(a, d, req, resp);
        resp->event = SB_EVENT_LOGIN;
    }
    yajl_tree_free(tree);
}

void pf_auth_refresh(pf_auth *a, const pf_data *d, const sb_request *req, sb_response *resp)
{
    yajl_val tree = parse_body(req);
    if (tree == NULL) {
        pf_error(resp, 400, "Bad Request", "Request body is not valid JSON", NULL);
        return;
    }
    const char *token = attribute(tree, "refreshToken");
    if (req->faults->refresh_fail) {
        unauthorized(resp, "Refresh token expired");
    } else if (token == NULL || !refresh_valid(a, token, sb_time_real_ms())) {
        unauthorized(resp, "Invalid refresh token");
    } else {
        session_doc(a, d, req, resp);
        resp->event = SB_EVENT_REFRESH;
    }
    yajl_tree_free(tree);
}

/* The issue time (ms) of a well-signed access token, or -1. */
static int64_t access_issued_ms(const pf_auth *a, const char *token)
{
    size_t hl = sizeof JWT_HEADER - 1;
    if (strncmp(token, JWT_HEADER, hl) != 0 || token[hl] != '.')
        return -1;
    const char *payload = token + hl + 1;
    const char *dot = strchr(payload, '.');
    if (dot == NULL)
        return -1;
    size_t n = (size_t)(dot - payload);
    sb_buf want;
    sb_buf_init(&want, 128);
    put_signature(a, &want, payload, n);
    bool signed_ok = !sb_buf_failed(&want) && strcmp(sb_buf_cstr(&want), dot + 1) == 0;
    sb_buf_term(&want);
    char claims[512];
    if (!signed_ok || !b64url_decode(payload, n, claims, sizeof claims))
        return -1;
    const char *jti = strstr(claims, "\"jti\":\"");
    if (jti == NULL)
        return -1;
    char *end;
    long long ms = strtoll(jti + 7, &end, 10);
    return end != jti + 7 && *end == '-' ? ms : -1;
}

bool pf_auth_check(pf_auth *a, const sb_request *req, sb_response *resp)
{
    const char *h = req->authorization;
    if (h != NULL && strncasecmp(h, "Bearer ", 7) == 0) {
        int64_t issued = access_issued_ms(a, h + 7);
        int ttl = req->faults->token_ttl > 0 ? req->faults->token_ttl : ACCESS_TTL_S;
        if (issued >= 0 && sb_time_real_ms() < issued + (int64_t)ttl * 1000)
            return true;
    }
    unauthorized(resp, "Token expired");
    return false;
}
