#include "sb_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdatomic.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include "sb_hostile.h"
#include "sb_stats.h"
#include "sb_time.h"

#define MAX_BODY (1024 * 1024) /* larger request bodies answer 413 */
#define MAX_ARGS 64            /* query arguments beyond this are ignored */
#define MAX_ADVANCE_STEPS 100000

static const char CT_TEXT[] = "text/plain; charset=utf-8";
static const char CT_JSONAPI[] = "application/vnd.api+json";

typedef struct conn_ctx conn_ctx;

/* Answers waiting out their slow_ms delay, earliest first; see "delayed answers". */
typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t wake; /* a new earliest entry, or stop */
    conn_ctx *head, *tail;
    bool ready;    /* delay_init succeeded */
    bool stopping; /* set by delay_stop: resume everything, take nothing more */
    bool running;  /* the resumer thread was started */
    pthread_t thread;
} delay_queue;

struct sb_server {
    sb_config cfg;
    void **states; /* one per entry of sb_modules */
    size_t nmodules;
    const char **endpoints; /* every module's endpoint names, for the stats */
    size_t nendpoints;
    sb_fault_state *faults;
    sb_stats *stats;
    pthread_mutex_t control_mu; /* serialises advance, reset and fault changes */
    long long steps;            /* advance steps applied since the start or reset */
    delay_queue delays;
    struct MHD_Daemon *daemon;
    pthread_mutex_t hostile_mu; /* guards hostile (copied per request) */
    sb_hostile hostile;
    sb_foreign *foreign;               /* what the foreign host received */
    struct MHD_Daemon *foreign_daemon; /* NULL: no foreign host */
    char foreign_base[64];             /* "http://127.0.0.2:PORT" */
    atomic_bool stopping;              /* endless answers end */
};

/* Per-request state (libmicrohttpd's con_cls is per request, freed by
 * on_completed): the body as it is uploaded, then the request's fate, drawn when it
 * has fully arrived and kept while the answer waits out slow_ms. */
struct conn_ctx {
    sb_buf body;
    bool too_big;
    bool drawn; /* fault, cut, snap and hsnap are set */
    sb_fault_kind fault;
    bool cut;
    sb_faults snap;
    sb_hostile hsnap;
    /* while queued in delay_queue: */
    int64_t due_ns; /* CLOCK_MONOTONIC */
    struct MHD_Connection *conn;
    conn_ctx *prev, *next;
};

typedef struct {
    sb_arg args[MAX_ARGS];
    size_t n;
} arg_list;

bool sb_server_known_endpoints(const char *list)
{
    const char *p = list;
    while (*p != '\0') {
        const char *comma = strchr(p, ',');
        size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);
        bool found = false;
        for (size_t m = 0; sb_modules[m] != NULL && !found; m++)
            for (const char *const *e = sb_modules[m]->endpoints; *e != NULL && !found; e++)
                found = strlen(*e) == len && memcmp(*e, p, len) == 0;
        if (!found)
            return false;
        p += len;
        if (*p == ',')
            p++;
    }
    return true;
}

/* ---- sending ---------------------------------------------------------------- */

/* Adds a module's extra headers (NULL or none: nothing). */
static void add_headers(struct MHD_Response *r, const sb_response *extra)
{
    for (size_t i = 0; extra != NULL && i < extra->nheaders; i++)
        MHD_add_response_header(r, extra->headers[i].name, extra->headers[i].value);
}

/* Sends data (malloc'ed, or NULL for an empty body; ownership passes to MHD) with
 * extra's headers (may be NULL). */
static enum MHD_Result send_owned(struct MHD_Connection *c, int status, const char *ctype,
                                  char *data, size_t len, int retry_after, const sb_response *extra)
{
    struct MHD_Response *r;
    if (data != NULL)
        r = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
    else
        r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (r == NULL) {
        free(data);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    if (retry_after >= 0) {
        char ra[16];
        snprintf(ra, sizeof ra, "%d", retry_after);
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, ra);
    }
    add_headers(r, extra);
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

/* Sends b's content and empties b, with extra's headers (may be NULL); a failed
 * buffer becomes a plain 500 without them. */
static enum MHD_Result send_buf_with(struct MHD_Connection *c, int status, const char *ctype,
                                     sb_buf *b, int retry_after, const sb_response *extra)
{
    size_t len;
    char *data = sb_buf_take(b, &len);
    if (data == NULL)
        return send_owned(c, 500, CT_TEXT, NULL, 0, -1, NULL);
    return send_owned(c, status, ctype, data, len, retry_after, extra);
}

/* Sends b's content and empties b; a failed buffer becomes a plain 500. */
static enum MHD_Result send_buf(struct MHD_Connection *c, int status, const char *ctype, sb_buf *b,
                                int retry_after)
{
    return send_buf_with(c, status, ctype, b, retry_after, NULL);
}

static enum MHD_Result send_text(struct MHD_Connection *c, int status, const char *text)
{
    sb_buf b;
    sb_buf_init(&b, 0);
    sb_buf_puts(&b, text);
    return send_buf(c, status, CT_TEXT, &b, -1);
}

/* A body announced at its full length but delivered only up to cut_at, after
 * which the reader reports an error and libmicrohttpd closes the connection. */
typedef struct {
    char *data;
    size_t cut_at;
} cut_body;

static ssize_t cut_reader(void *cls, uint64_t pos, char *out, size_t max)
{
    cut_body *cb = cls;
    if (pos >= cb->cut_at)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    size_t n = cb->cut_at - (size_t)pos;
    if (n > max)
        n = max;
    memcpy(out, cb->data + pos, n);
    return (ssize_t)n;
}

static void cut_free(void *cls)
{
    cut_body *cb = cls;
    free(cb->data);
    free(cb);
}

static enum MHD_Result send_cut(struct MHD_Connection *c, int status, const char *ctype, sb_buf *b,
                                const sb_response *extra)
{
    cut_body *cb = malloc(sizeof *cb);
    size_t len;
    char *data = sb_buf_take(b, &len);
    if (cb == NULL || data == NULL) {
        free(cb);
        free(data);
        return send_owned(c, 500, CT_TEXT, NULL, 0, -1, NULL);
    }
    cb->data = data;
    cb->cut_at = len / 2;
    struct MHD_Response *r = MHD_create_response_from_callback(len, 4096, cut_reader, cb, cut_free);
    if (r == NULL) {
        cut_free(cb);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    add_headers(r, extra);
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

/* An answer that never ends (hostile endless=): the prefix, then spaces, a chunk
 * every SB_HOSTILE_ENDLESS_PAUSE_MS, until the client hangs up or the sandbox
 * stops. The pause is a sleep on the pool thread: an endless answer holds its
 * thread (give the sandbox more --threads when other traffic must flow beside). */
typedef struct {
    sb_server *s;
    char *prefix;
    size_t prefix_len;
} endless_body;

static ssize_t endless_reader(void *cls, uint64_t pos, char *out, size_t max)
{
    endless_body *e = cls;
    if (atomic_load(&e->s->stopping))
        return MHD_CONTENT_READER_END_WITH_ERROR;
    if (pos < e->prefix_len) {
        size_t n = e->prefix_len - (size_t)pos;
        n = n < max ? n : max;
        memcpy(out, e->prefix + pos, n);
        return (ssize_t)n;
    }
    struct timespec pause = {0, SB_HOSTILE_ENDLESS_PAUSE_MS * 1000000L};
    nanosleep(&pause, NULL);
    size_t n = max < SB_HOSTILE_ENDLESS_CHUNK ? max : SB_HOSTILE_ENDLESS_CHUNK;
    memset(out, ' ', n);
    return (ssize_t)n;
}

static void endless_free(void *cls)
{
    endless_body *e = cls;
    free(e->prefix);
    free(e);
}

static enum MHD_Result send_endless(sb_server *s, struct MHD_Connection *c, const char *ctype,
                                    sb_buf *b, const sb_response *extra)
{
    endless_body *e = malloc(sizeof *e);
    size_t len;
    char *data = sb_buf_take(b, &len);
    if (e == NULL || data == NULL) {
        free(e);
        free(data);
        return send_owned(c, 500, CT_TEXT, NULL, 0, -1, NULL);
    }
    *e = (endless_body){.s = s, .prefix = data, .prefix_len = len};
    struct MHD_Response *r = MHD_create_response_from_callback(
        MHD_SIZE_UNKNOWN, SB_HOSTILE_ENDLESS_CHUNK, endless_reader, e, endless_free);
    if (r == NULL) {
        endless_free(e);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    add_headers(r, extra);
    enum MHD_Result ret = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return ret;
}

/* ---- control endpoints ---------------------------------------------------------- */

static int by_string(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorts the '\n'-terminated lines of in (byte order) into out. */
static void sort_lines(sb_buf *in, sb_buf *out)
{
    if (sb_buf_failed(in)) {
        out->failed = true;
        return;
    }
    size_t n = 0;
    for (size_t i = 0; i < in->len; i++)
        n += in->data[i] == '\n';
    char **lines = calloc(n + 1, sizeof *lines);
    if (lines == NULL) {
        out->failed = true;
        return;
    }
    size_t k = 0;
    for (char *p = in->data; k < n; k++) {
        char *nl = strchr(p, '\n');
        *nl = '\0';
        lines[k] = p;
        p = nl + 1;
    }
    qsort(lines, n, sizeof *lines, by_string);
    for (size_t i = 0; i < n; i++) {
        sb_buf_puts(out, lines[i]);
        sb_buf_putc(out, '\n');
    }
    free(lines);
}

static void put_sandbox_lines(sb_server *s, sb_buf *b)
{
    sb_buf_printf(b, "sandbox\tclock\t");
    sb_time_put_z(b, SB_CLOCK_START + s->steps * SB_HOUR);
    sb_buf_printf(b, "\nsandbox\tscale\t%g\nsandbox\tseed\t%llu\nsandbox\tsteps\t%lld\n",
                  s->cfg.scale, (unsigned long long)s->cfg.seed, s->steps);
}

static enum MHD_Result control_truth(sb_server *s, struct MHD_Connection *c)
{
    sb_buf raw, out;
    sb_buf_init(&raw, 4096);
    sb_buf_init(&out, 4096);
    pthread_mutex_lock(&s->control_mu);
    for (size_t m = 0; m < s->nmodules; m++)
        sb_modules[m]->truth(s->states[m], &raw);
    put_sandbox_lines(s, &raw);
    pthread_mutex_unlock(&s->control_mu);
    sort_lines(&raw, &out);
    sb_buf_term(&raw);
    return send_buf(c, 200, CT_TEXT, &out, -1);
}

static enum MHD_Result control_advance(sb_server *s, struct MHD_Connection *c)
{
    const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "steps");
    long steps = 1;
    if (v != NULL) {
        char *end;
        errno = 0;
        steps = strtol(v, &end, 10);
        if (errno != 0 || end == v || *end != '\0' || steps < 0 || steps > MAX_ADVANCE_STEPS)
            return send_text(c, 400, "steps must be an integer in 0..100000\n");
    }
    sb_buf raw, out;
    sb_buf_init(&raw, 1024);
    sb_buf_init(&out, 1024);
    pthread_mutex_lock(&s->control_mu);
    for (size_t m = 0; m < s->nmodules; m++)
        sb_modules[m]->advance(s->states[m], (int)steps, &raw);
    s->steps += steps;
    sb_buf_printf(&raw, "sandbox\tclock\t");
    sb_time_put_z(&raw, SB_CLOCK_START + s->steps * SB_HOUR);
    sb_buf_putc(&raw, '\n');
    pthread_mutex_unlock(&s->control_mu);
    sort_lines(&raw, &out);
    sb_buf_term(&raw);
    return send_buf(c, 200, CT_TEXT, &out, -1);
}

static enum MHD_Result control_faults(sb_server *s, struct MHD_Connection *c, const arg_list *a)
{
    sb_faults f;
    char err[256];
    sb_faults_clear(&f);
    for (size_t i = 0; i < a->n; i++)
        if (!sb_faults_set(&f, a->args[i].key, a->args[i].value, err, sizeof err)) {
            sb_buf b;
            sb_buf_init(&b, 0);
            sb_buf_printf(&b, "%s\n", err);
            return send_buf(c, 400, CT_TEXT, &b, -1);
        }
    if (!sb_server_known_endpoints(f.malformed))
        return send_text(c, 400,
                         "malformed= takes endpoint names: stores categories inventory_items "
                         "bouquets customers orders order_detail (comma-separated)\n");
    pthread_mutex_lock(&s->control_mu);
    sb_fault_state_set(s->faults, &f);
    pthread_mutex_unlock(&s->control_mu);
    char text[1024];
    sb_faults_describe(&f, text, sizeof text);
    return send_text(c, 200, text);
}

/* Every module's credentials (sb_module.secrets), one per line. */
static void all_secrets(sb_server *s, sb_buf *out)
{
    for (size_t m = 0; m < s->nmodules; m++)
        if (sb_modules[m]->secrets != NULL)
            sb_modules[m]->secrets(s->states[m], out);
}

static bool hostile_known(const char *list)
{
    return sb_server_known_endpoints(list);
}

static enum MHD_Result control_hostile(sb_server *s, struct MHD_Connection *c, const char *method,
                                       const arg_list *a)
{
    sb_hostile h;
    char err[256];
    sb_buf b;
    sb_buf_init(&b, 512);
    if (strcmp(method, "POST") == 0) {
        sb_hostile_clear(&h);
        for (size_t i = 0; i < a->n; i++)
            if (!sb_hostile_set(&h, a->args[i].key, a->args[i].value, hostile_known, err,
                                sizeof err)) {
                sb_buf_printf(&b, "%s\n", err);
                return send_buf(c, 400, CT_TEXT, &b, -1);
            }
        pthread_mutex_lock(&s->hostile_mu);
        s->hostile = h;
        pthread_mutex_unlock(&s->hostile_mu);
    } else {
        pthread_mutex_lock(&s->hostile_mu);
        h = s->hostile;
        pthread_mutex_unlock(&s->hostile_mu);
    }
    sb_hostile_describe(&h, &b);
    return send_buf(c, 200, CT_TEXT, &b, -1);
}

static enum MHD_Result control_foreign(sb_server *s, struct MHD_Connection *c)
{
    sb_buf b;
    sb_buf_init(&b, 256);
    sb_foreign_render(s->foreign, s->foreign_daemon != NULL ? s->foreign_base : NULL, &b);
    return send_buf(c, 200, CT_TEXT, &b, -1);
}

static enum MHD_Result control_secrets(sb_server *s, struct MHD_Connection *c)
{
    sb_buf b;
    sb_buf_init(&b, 4096);
    all_secrets(s, &b);
    return send_buf(c, 200, CT_TEXT, &b, -1);
}

static enum MHD_Result control_reset(sb_server *s, struct MHD_Connection *c)
{
    bool ok = true;
    sb_faults none;
    sb_faults_clear(&none);
    pthread_mutex_lock(&s->control_mu);
    for (size_t m = 0; m < s->nmodules; m++)
        ok = sb_modules[m]->reset(s->states[m]) && ok;
    s->steps = 0;
    sb_fault_state_set(s->faults, &none);
    sb_stats_reset(s->stats);
    pthread_mutex_lock(&s->hostile_mu);
    sb_hostile_clear(&s->hostile);
    pthread_mutex_unlock(&s->hostile_mu);
    sb_foreign_reset(s->foreign);
    pthread_mutex_unlock(&s->control_mu);
    return ok ? send_text(c, 200, "ok\n") : send_text(c, 500, "out of memory\n");
}

static enum MHD_Result control(sb_server *s, struct MHD_Connection *c, const char *what,
                               const char *method, const arg_list *a)
{
    if (strcmp(what, "hostile") == 0)
        return control_hostile(s, c, method, a);
    if (strcmp(what, "foreign") == 0)
        return control_foreign(s, c);
    if (strcmp(what, "secrets") == 0)
        return control_secrets(s, c);
    if (strcmp(what, "truth") == 0)
        return control_truth(s, c);
    if (strcmp(what, "advance") == 0)
        return control_advance(s, c);
    if (strcmp(what, "faults") == 0)
        return control_faults(s, c, a);
    if (strcmp(what, "reset") == 0)
        return control_reset(s, c);
    if (strcmp(what, "stats") == 0) {
        sb_buf b;
        sb_buf_init(&b, 2048);
        sb_stats_render(s->stats, &b);
        return send_buf(c, 200, CT_TEXT, &b, -1);
    }
    return send_text(c, 404, "unknown control endpoint\n");
}

/* ---- delayed answers ------------------------------------------------------------ *
 *
 * slow_ms must look like a real API with that latency: every request answered
 * slow_ms after it arrived, whatever else is in flight. Sleeping in the request
 * handler does not give that: a pool thread serves many keep-alive connections
 * from one event loop, so a sleep there holds every connection of that thread and
 * concurrent answers come out one after the other. Instead the handler draws the
 * request's fate, suspends the connection (MHD_suspend_connection: its pool
 * thread goes on serving the others) and queues it here; one resumer thread
 * resumes each connection when its time has come, and libmicrohttpd calls the
 * handler again, which answers at once. This was preferred to a thread per
 * connection because it also holds for slow_ms set at run time through
 * /_sandbox/faults, needs no thread per client connection, and leaves requests
 * without slow_ms on exactly the pool path they had.
 *
 * libmicrohttpd forbids stopping a daemon that has suspended connections, so
 * delay_stop resumes everything queued and refuses new entries before the
 * daemon stops; a refused request is resumed at once (answered without delay). */

static int64_t monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Returns false when pthread failed, with nothing to undo (q->ready stays false). */
static bool delay_init(delay_queue *q)
{
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) != 0)
        return false;
    bool ok = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0 &&
              pthread_cond_init(&q->wake, &attr) == 0;
    pthread_condattr_destroy(&attr);
    if (!ok)
        return false;
    pthread_mutex_init(&q->mu, NULL);
    q->head = q->tail = NULL;
    q->stopping = q->running = false;
    q->ready = true;
    return true;
}

/* Unlinks the head; the caller holds q->mu and the queue is not empty. */
static conn_ctx *delay_pop(delay_queue *q)
{
    conn_ctx *cc = q->head;
    q->head = cc->next;
    if (q->head != NULL)
        q->head->prev = NULL;
    else
        q->tail = NULL;
    cc->prev = cc->next = NULL;
    return cc;
}

/* The resumer thread. A connection is resumed outside the lock: once resumed, its
 * handler may answer and on_completed free the conn_ctx, so nothing of it is
 * touched after MHD_resume_connection. */
static void *delay_run(void *arg)
{
    delay_queue *q = arg;
    pthread_mutex_lock(&q->mu);
    for (;;) {
        if (q->head == NULL) {
            if (q->stopping)
                break;
            pthread_cond_wait(&q->wake, &q->mu);
            continue;
        }
        int64_t due = q->head->due_ns;
        if (!q->stopping && due > monotonic_ns()) {
            struct timespec ts = {(time_t)(due / 1000000000), (long)(due % 1000000000)};
            pthread_cond_timedwait(&q->wake, &q->mu, &ts);
            continue;
        }
        struct MHD_Connection *c = delay_pop(q)->conn;
        pthread_mutex_unlock(&q->mu);
        MHD_resume_connection(c);
        pthread_mutex_lock(&q->mu);
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

static bool delay_start(delay_queue *q)
{
    q->running = pthread_create(&q->thread, NULL, delay_run, q) == 0;
    return q->running;
}

/* Queues cc (due_ns and conn set, connection already suspended) in due order.
 * Returns false when the queue is stopping: the caller resumes the connection. */
static bool delay_push(delay_queue *q, conn_ctx *cc)
{
    pthread_mutex_lock(&q->mu);
    bool ok = !q->stopping;
    if (ok) {
        /* Dues mostly arrive in order (one slow_ms for all): search from the tail. */
        conn_ctx *after = q->tail;
        while (after != NULL && after->due_ns > cc->due_ns)
            after = after->prev;
        cc->prev = after;
        cc->next = after != NULL ? after->next : q->head;
        if (cc->next != NULL)
            cc->next->prev = cc;
        else
            q->tail = cc;
        if (after != NULL)
            after->next = cc;
        else
            q->head = cc;
        if (q->head == cc)
            pthread_cond_signal(&q->wake);
    }
    pthread_mutex_unlock(&q->mu);
    return ok;
}

/* Resumes every queued connection and joins the resumer thread; from then on
 * delay_push refuses. Call before MHD_stop_daemon. */
static void delay_stop(delay_queue *q)
{
    if (!q->ready)
        return;
    pthread_mutex_lock(&q->mu);
    q->stopping = true;
    pthread_cond_signal(&q->wake);
    pthread_mutex_unlock(&q->mu);
    if (q->running)
        pthread_join(q->thread, NULL);
    q->running = false;
}

/* Call after delay_stop (the queue is empty then). */
static void delay_term(delay_queue *q)
{
    if (!q->ready)
        return;
    q->ready = false;
    pthread_cond_destroy(&q->wake);
    pthread_mutex_destroy(&q->mu);
}

/* Holds c's answer back for ms milliseconds from now without holding its thread;
 * the handler is called again when the time has come (or at once on shutdown). */
static void delay_answer(sb_server *s, struct MHD_Connection *c, conn_ctx *cc, int ms)
{
    cc->due_ns = monotonic_ns() + (int64_t)ms * 1000000;
    cc->conn = c;
    MHD_suspend_connection(c);
    if (!delay_push(&s->delays, cc))
        MHD_resume_connection(c);
}

/* ---- API requests --------------------------------------------------------------- */

static void json_error(sb_buf *b, int status, const char *title, const char *detail)
{
    sb_buf_printf(b, "{\"errors\":[{\"status\":\"%d\",\"title\":\"%s\",\"detail\":\"%s\"}]}",
                  status, title, detail);
}

/* Makes a JSON body invalid the way a broken proxy or server would: the final
 * closing bracket is replaced by a stray byte. */
static void make_malformed(sb_buf *b)
{
    if (b->len > 0)
        b->data[b->len - 1] = '@';
    else
        sb_buf_puts(b, "{\"data\":[");
}

static const sb_module *find_module(const char *url, size_t *index)
{
    for (size_t m = 0; sb_modules[m] != NULL; m++) {
        size_t n = strlen(sb_modules[m]->prefix);
        if (strncmp(url, sb_modules[m]->prefix, n) == 0 && (url[n] == '/' || url[n] == '\0')) {
            *index = m;
            return sb_modules[m];
        }
    }
    return NULL;
}

/* "path?query" of the request as it came (the query re-encoded), for a redirect. */
static void request_target(const char *url, const arg_list *a, sb_buf *out)
{
    static const char hex[] = "0123456789ABCDEF";
    sb_buf_puts(out, url);
    for (size_t i = 0; i < a->n; i++) {
        sb_buf_putc(out, i == 0 ? '?' : '&');
        for (int part = 0; part < 2; part++) {
            const char *p = part == 0 ? a->args[i].key : a->args[i].value;
            if (part == 1)
                sb_buf_putc(out, '=');
            for (; *p != '\0'; p++) {
                unsigned char ch = (unsigned char)*p;
                if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
                    sb_buf_putc(out, (char)ch);
                } else {
                    sb_buf_putc(out, '%');
                    sb_buf_putc(out, hex[ch >> 4]);
                    sb_buf_putc(out, hex[ch & 15]);
                }
            }
        }
    }
}

/* The hostile switches in force for the request (cc->hsnap) applied to its answer. */
static sb_hostile_send apply_hostile(sb_server *s, struct MHD_Connection *c, const char *url,
                                     const char *method, conn_ctx *cc, const arg_list *a,
                                     sb_response *resp)
{
    if (!sb_hostile_any(&cc->hsnap))
        return SB_HOSTILE_SEND;
    char location[SB_HOSTILE_LOCATION_MAX] = "";
    sb_buf target;
    sb_buf_init(&target, 256);
    request_target(url, a, &target);
    sb_hostile_io io = {
        .endpoint = resp->endpoint,
        .method = method,
        .target = sb_buf_cstr(&target),
        .authorization =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
        .req_body = sb_buf_cstr(&cc->body),
        .req_body_len = cc->body.len,
        .foreign_base = s->foreign_daemon != NULL ? s->foreign_base : NULL,
        .status = &resp->status,
        .body = &resp->body,
        .location = location,
    };
    sb_hostile_send how = sb_hostile_apply(&cc->hsnap, &io);
    sb_buf_term(&target);
    if (location[0] != '\0') {
        resp->nheaders = 0;
        sb_response_header(resp, "Location", location);
    }
    return how;
}

/* Answers an API request. The fate (faults, budget) is drawn when the request has
 * arrived; with slow_ms the answer is then deferred (delay_answer) and made when
 * libmicrohttpd calls the handler again, from the same draw. */
static enum MHD_Result api_request(sb_server *s, struct MHD_Connection *c, const char *url,
                                   const char *method, conn_ctx *cc, const arg_list *a)
{
    if (!cc->drawn) {
        cc->fault = sb_fault_draw(s->faults, &cc->snap, &cc->cut);
        pthread_mutex_lock(&s->hostile_mu);
        cc->hsnap = s->hostile;
        pthread_mutex_unlock(&s->hostile_mu);
        cc->drawn = true;
        if (cc->snap.slow_ms > 0) {
            delay_answer(s, c, cc, cc->snap.slow_ms);
            return MHD_YES;
        }
    }
    const sb_faults *snap = &cc->snap;
    sb_fault_kind fault = cc->fault;
    bool cut = cc->cut;
    size_t m = 0;
    const sb_module *mod = find_module(url, &m);
    sb_response resp = {.status = 500, .content_type = CT_JSONAPI};
    if (mod != NULL)
        resp.endpoint = mod->classify(url + strlen(mod->prefix));
    sb_buf_init(&resp.body, 0);
    int retry_after = -1;
    if (fault != SB_FAULT_NONE && mod != NULL && mod->fault_body != NULL) {
        resp.status = fault == SB_FAULT_429 ? 429 : 500;
        retry_after = fault == SB_FAULT_429 ? snap->retry_after : -1;
        mod->fault_body(snap->retry_after, &resp);
    } else if (fault == SB_FAULT_429) {
        resp.status = 429;
        retry_after = snap->retry_after;
        sb_buf_printf(&resp.body,
                      "{\"errors\":[{\"status\":\"429\",\"title\":\"Too Many Requests\","
                      "\"detail\":\"Rate limit exceeded, retry in %d seconds\","
                      "\"meta\":{\"retryAfter\":%d}}]}",
                      snap->retry_after, snap->retry_after);
    } else if (fault == SB_FAULT_500) {
        json_error(&resp.body, 500, "Internal Server Error", "Sandbox fault: burst of 500s");
    } else if (cc->too_big) {
        resp.status = 413;
        json_error(&resp.body, 413, "Payload Too Large", "Request body over 1 MiB");
    } else if (mod == NULL) {
        /* Like the vendor's web server outside the API root: an HTML page. */
        resp.status = 404;
        resp.content_type = "text/html; charset=utf-8";
        sb_buf_puts(&resp.body, "<html><head><title>404 Not Found</title></head><body>"
                                "<h1>Not Found</h1></body></html>\n");
    } else {
        sb_request req = {
            .method = method,
            .path = url + strlen(mod->prefix),
            .args = a->args,
            .nargs = a->n,
            .authorization =
                MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
            .host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST),
            .body = sb_buf_cstr(&cc->body),
            .body_len = cc->body.len,
            .faults = snap,
            .hostile = &cc->hsnap};
        mod->handle(s->states[m], &req, &resp);
    }
    sb_hostile_send how = SB_HOSTILE_SEND;
    if (fault == SB_FAULT_NONE && mod != NULL && !cc->too_big)
        how = apply_hostile(s, c, url, method, cc, a, &resp);
    bool malformed = resp.status == 200 && resp.endpoint != NULL &&
                     sb_faults_list_has(snap->malformed, resp.endpoint);
    if (malformed)
        make_malformed(&resp.body);
    if (sb_buf_failed(&resp.body)) {
        sb_buf_reset(&resp.body);
        resp.status = 500;
        resp.nheaders = 0;
        json_error(&resp.body, 500, "Internal Server Error", "Sandbox out of memory");
    }
    cut = cut && resp.body.len >= 2 && how == SB_HOSTILE_SEND;
    sb_stats_count(s->stats, resp.status, resp.endpoint, cut, malformed, resp.event);
    if (how == SB_HOSTILE_ENDLESS)
        return send_endless(s, c, resp.content_type, &resp.body, &resp);
    if (cut)
        return send_cut(c, resp.status, resp.content_type, &resp.body, &resp);
    return send_buf_with(c, resp.status, resp.content_type, &resp.body, retry_after, &resp);
}

/* ---- libmicrohttpd callbacks ------------------------------------------------------ */

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    (void)kind;
    arg_list *a = cls;
    if (a->n < MAX_ARGS) {
        a->args[a->n].key = key;
        a->args[a->n].value = value != NULL ? value : "";
        a->n++;
    }
    return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    sb_server *s = cls;
    conn_ctx *cc = *con_cls;
    if (cc == NULL) {
        cc = calloc(1, sizeof *cc);
        if (cc == NULL)
            return MHD_NO;
        sb_buf_init(&cc->body, 0);
        *con_cls = cc;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (cc->body.len + *upload_data_size > MAX_BODY)
            cc->too_big = true;
        else
            sb_buf_put(&cc->body, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    arg_list a;
    a.n = 0;
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_arg, &a);
    if (strncmp(url, "/_sandbox/", 10) == 0)
        return control(s, c, url + 10, method, &a);
    return api_request(s, c, url, method, cc, &a);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    conn_ctx *cc = *con_cls;
    if (cc == NULL)
        return;
    sb_buf_term(&cc->body);
    free(cc);
    *con_cls = NULL;
}

/* ---- the foreign host -------------------------------------------------------------- *
 *
 * Another host, as far as a client can tell (another address, another port): it
 * answers every request 404 and notes whether it carried an Authorization header
 * or any credential a module knows, in the target, a header or the body. */

typedef struct {
    sb_buf *text;
    bool authorization;
} foreign_scan;

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    foreign_scan *f = cls;
    (void)kind;
    if (strcasecmp(key, MHD_HTTP_HEADER_AUTHORIZATION) == 0)
        f->authorization = true;
    sb_buf_printf(f->text, "%s: %s\n", key, value != NULL ? value : "");
    return MHD_YES;
}

static enum MHD_Result on_foreign_request(void *cls, struct MHD_Connection *c, const char *url,
                                          const char *method, const char *version,
                                          const char *upload_data, size_t *upload_data_size,
                                          void **con_cls)
{
    (void)version;
    (void)method;
    sb_server *s = cls;
    conn_ctx *cc = *con_cls;
    if (cc == NULL) {
        if ((cc = calloc(1, sizeof *cc)) == NULL)
            return MHD_NO;
        sb_buf_init(&cc->body, 0);
        *con_cls = cc;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (cc->body.len + *upload_data_size <= MAX_BODY)
            sb_buf_put(&cc->body, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    arg_list a = {.n = 0};
    sb_buf text, secrets;
    sb_buf_init(&text, 1024);
    sb_buf_init(&secrets, 1024);
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_arg, &a);
    request_target(url, &a, &text);
    sb_buf_putc(&text, '\n');
    foreign_scan scan = {.text = &text};
    MHD_get_connection_values(c, MHD_HEADER_KIND, collect_header, &scan);
    sb_buf_put(&text, cc->body.data != NULL ? cc->body.data : "", cc->body.len);
    all_secrets(s, &secrets);
    bool carried = false;
    for (char *line = secrets.data; line != NULL && *line != '\0' && !carried;) {
        char *nl = strchr(line, '\n');
        if (nl != NULL)
            *nl = '\0';
        carried = sb_hostile_contains(text.data, text.len, line);
        line = nl != NULL ? nl + 1 : NULL;
    }
    sb_foreign_note(s->foreign, scan.authorization, carried);
    sb_buf_term(&text);
    sb_buf_term(&secrets);
    return send_text(c, 404, "{\"message\":\"Not found (this is another host)\"}\n");
}

void sb_server_set_hostile(sb_server *s, const sb_hostile *h)
{
    pthread_mutex_lock(&s->hostile_mu);
    s->hostile = *h;
    pthread_mutex_unlock(&s->hostile_mu);
}

bool sb_server_start_foreign(sb_server *s, const char *host, char *err, size_t errlen)
{
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = 0;
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
        snprintf(err, errlen, "--foreign-host must be an IPv4 address, got '%s'", host);
        return false;
    }
    s->foreign_daemon = MHD_start_daemon(
        MHD_USE_AUTO_INTERNAL_THREAD, 0, NULL, NULL, on_foreign_request, s, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&addr, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
    if (s->foreign_daemon == NULL) {
        snprintf(err, errlen, "cannot listen on %s (the foreign host)", host);
        return false;
    }
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(s->foreign_daemon, MHD_DAEMON_INFO_BIND_PORT);
    snprintf(s->foreign_base, sizeof s->foreign_base, "http://%s:%d", host,
             info != NULL ? (int)info->port : 0);
    return true;
}

/* ---- lifecycle -------------------------------------------------------------------- */

sb_server *sb_server_new(const sb_config *cfg, const sb_faults *faults, char *err, size_t errlen)
{
    sb_server *s = calloc(1, sizeof *s);
    if (s == NULL)
        goto oom;
    s->cfg = *cfg;
    pthread_mutex_init(&s->control_mu, NULL);
    pthread_mutex_init(&s->hostile_mu, NULL);
    sb_hostile_clear(&s->hostile);
    atomic_init(&s->stopping, false);
    while (sb_modules[s->nmodules] != NULL) {
        for (const char *const *e = sb_modules[s->nmodules]->endpoints; *e != NULL; e++)
            s->nendpoints++;
        s->nmodules++;
    }
    s->states = calloc(s->nmodules + 1, sizeof *s->states);
    s->endpoints = calloc(s->nendpoints + 1, sizeof *s->endpoints);
    if (s->states == NULL || s->endpoints == NULL)
        goto oom;
    size_t k = 0;
    for (size_t m = 0; m < s->nmodules; m++)
        for (const char *const *e = sb_modules[m]->endpoints; *e != NULL; e++)
            s->endpoints[k++] = *e;
    s->faults = sb_fault_state_new();
    s->stats = sb_stats_new(s->endpoints, s->nendpoints);
    s->foreign = sb_foreign_new();
    if (s->faults == NULL || s->stats == NULL || s->foreign == NULL || !delay_init(&s->delays))
        goto oom;
    sb_fault_state_set(s->faults, faults);
    for (size_t m = 0; m < s->nmodules; m++) {
        s->states[m] = sb_modules[m]->create(cfg, err, errlen);
        if (s->states[m] == NULL)
            goto fail;
    }
    return s;
oom:
    snprintf(err, errlen, "out of memory");
fail:
    sb_server_free(s);
    return NULL;
}

bool sb_server_start(sb_server *s, const char *host, int port, int threads, int *bound_port,
                     char *err, size_t errlen)
{
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
        snprintf(err, errlen, "--host must be an IPv4 address, got '%s'", host);
        return false;
    }
    if (!delay_start(&s->delays)) {
        snprintf(err, errlen, "cannot start the slow_ms thread");
        return false;
    }
    s->daemon = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME, 0, NULL,
                                 NULL, on_request, s, MHD_OPTION_SOCK_ADDR,
                                 (struct sockaddr *)&addr, MHD_OPTION_THREAD_POOL_SIZE,
                                 (unsigned)threads, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                                 MHD_OPTION_CONNECTION_TIMEOUT, 120u, MHD_OPTION_END);
    if (s->daemon == NULL) {
        snprintf(err, errlen, "cannot listen on %s:%d", host, port);
        return false;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    *bound_port = info != NULL ? (int)info->port : port;
    return true;
}

void sb_server_free(sb_server *s)
{
    if (s == NULL)
        return;
    atomic_store(&s->stopping, true); /* endless answers end */
    delay_stop(&s->delays);           /* no suspended connection may outlive the daemon */
    if (s->daemon != NULL)
        MHD_stop_daemon(s->daemon);
    if (s->foreign_daemon != NULL)
        MHD_stop_daemon(s->foreign_daemon);
    delay_term(&s->delays);
    if (s->states != NULL)
        for (size_t m = 0; m < s->nmodules; m++)
            sb_modules[m]->destroy(s->states[m]);
    free(s->states);
    free(s->endpoints);
    sb_fault_state_free(s->faults);
    sb_stats_free(s->stats);
    sb_foreign_free(s->foreign);
    pthread_mutex_destroy(&s->control_mu);
    pthread_mutex_destroy(&s->hostile_mu);
    free(s);
}
