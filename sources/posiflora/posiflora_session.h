/* posiflora_session: the access token of one Posiflora account for one run.
 *
 * POST {base}/v1/sessions (username, password) gives an access token (about 1 h),
 * a refresh token (30 days) and expireAt. The token is refreshed with PATCH
 * {base}/v1/sessions shortly before it expires (refresh_margin) and after a 401
 * on a data call; when a refresh fails, the session logs in again.
 *
 * Secrets: the password and the tokens live only in this struct (wiped on free)
 * and in request headers and bodies. The tokens are registered for redaction
 * (log_add_secret) as soon as a response carries them, the password is a config
 * secret; session requests go only to the origin of base_url (the http client's
 * rule for requests whose body carries credentials).
 * Not thread-safe: one session per source worker. */
#ifndef FE_POSIFLORA_SESSION_H
#define FE_POSIFLORA_SESSION_H

#include <stdint.h>
#include "core/err.h"
#include "core/stats.h"
#include "extract/http.h"

typedef struct posiflora_session posiflora_session;

/* base_url: ".../api" without a trailing slash. logctx names the source in the
 * warning logged when a refresh fails and the session logs in again. Everything
 * is copied. No request is made yet. Returns NULL on allocation failure. Free
 * with posiflora_session_free. */
posiflora_session *posiflora_session_new(const char *base_url, const char *username,
                                         const char *password, int64_t refresh_margin_us,
                                         const char *logctx);
/* Wipes the secrets and frees. Accepts NULL. */
void posiflora_session_free(posiflora_session *s);

/* Logs in (POST). FE_EAUTH when the credentials are refused (401/403), FE_EHTTP or
 * FE_EJSON for other failures. stats may be NULL. */
fe_rc posiflora_session_login(posiflora_session *s, http_client *http, stream_stats *stats,
                              fe_err *err) FE_MUST_CHECK;

/* Before a batch of requests: logs in when there is no token yet, refreshes when
 * the token expires within refresh_margin (falling back to a login). */
fe_rc posiflora_session_ensure(posiflora_session *s, http_client *http, stream_stats *stats,
                               fe_err *err) FE_MUST_CHECK;

/* After a 401 on a data call: refresh (PATCH); when that fails, log in again. The
 * caller then retries its request once. */
fe_rc posiflora_session_renew(posiflora_session *s, http_client *http, stream_stats *stats,
                              fe_err *err) FE_MUST_CHECK;

/* "Authorization: Bearer <token>", for http_request.headers; "" before a login.
 * Valid until the next login, refresh or free. */
const char *posiflora_session_auth_header(const posiflora_session *s);

/* When the access token expires (microseconds since the epoch, UTC); 0 before a
 * login. */
int64_t posiflora_session_expire_at(const posiflora_session *s);
/* How the orders stream reads orders, as its probe found it (one line without a
 * newline, e.g. "detail per order (probe failed: ...)"); "" until a probe ran.
 * Kept for `flowetl check` (posiflora's describe_methods); set cuts at 255 bytes. */
void posiflora_session_set_orders_method(posiflora_session *s, const char *text);
const char *posiflora_session_orders_method(const posiflora_session *s);

#endif
