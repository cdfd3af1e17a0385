/* metrics: the exposition text of a run and its atomic write (see metrics.h). */
#include "app/metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *const metrics_statuses[METRICS_NSTATUS] = {"succeeded", "failed", "interrupted",
                                                       "skipped"};

bool metrics_put_label_value(buf *out, const char *s)
{
    for (; s && *s; s++) {
        bool ok;
        if (*s == '\\')
            ok = buf_puts(out, "\\\\");
        else if (*s == '"')
            ok = buf_puts(out, "\\\"");
        else if (*s == '\n')
            ok = buf_puts(out, "\\n");
        else
            ok = buf_putc(out, *s);
        if (!ok)
            return false;
    }
    return true;
}

/* ---- one metric family ---------------------------------------------------- */

/* The per-stream families: a name, its help, and the value of a stream. The
 * last-run families are written for the streams this run selected only. */
typedef enum { V_INT, V_SECONDS } value_kind;

typedef struct {
    const char *name;
    const char *help;
    bool last_run; /* only for streams the run selected */
    value_kind kind;
    size_t offset; /* of the int64_t in metrics_stream; (size_t)-1: computed */
} stream_family;

#define SF(field) offsetof(metrics_stream, stats) + offsetof(stream_stats, field)
#define COMPUTED ((size_t)-1)

static const stream_family stream_families[] = {
    {"flowetl_stream_last_success_timestamp_seconds",
     "Unix time the stream's latest succeeded run ended (from etl.run_stream; 0: never "
     "succeeded).",
     false, V_INT, offsetof(metrics_stream, last_success)},
    {"flowetl_stream_last_run_timestamp_seconds",
     "Unix time the last run that selected the stream ended.", true, V_INT, COMPUTED},
    {"flowetl_stream_last_run_failed", "1 when the stream failed in the last run, else 0.", true,
     V_INT, COMPUTED},
    {"flowetl_stream_last_run_duration_seconds", "How long the stream ran in the last run.", true,
     V_SECONDS, COMPUTED},
    {"flowetl_stream_last_run_records_read",
     "Records the stream read from the API in the last run (in the stream's own unit: orders, "
     "products, stock rows...).",
     true, V_INT, SF(records)},
    {"flowetl_stream_last_run_pages", "API pages the stream read in the last run.", true, V_INT,
     SF(pages)},
    {"flowetl_stream_last_run_rows_inserted",
     "Warehouse rows the stream inserted in the last run (all its tables).", true, V_INT,
     SF(inserted)},
    {"flowetl_stream_last_run_rows_updated",
     "Warehouse rows the stream changed in the last run (all its tables).", true, V_INT,
     SF(updated)},
    {"flowetl_stream_last_run_rows_unchanged",
     "Rows the stream staged in the last run whose warehouse row was already equal.", true, V_INT,
     SF(unchanged)},
    {"flowetl_stream_last_run_rows_deleted",
     "Warehouse rows the stream marked deleted in the last run.", true, V_INT, SF(deleted)},
    {"flowetl_stream_last_run_records_rejected",
     "Records the stream rejected in the last run (written to etl.reject).", true, V_INT,
     SF(rejects)},
    {"flowetl_stream_last_run_requests",
     "HTTP requests the stream sent in the last run, retries included.", true, V_INT, SF(requests)},
    {"flowetl_stream_last_run_retries", "HTTP requests the stream retried in the last run.", true,
     V_INT, SF(retries)},
    {"flowetl_stream_last_run_http_429_responses",
     "HTTP 429 (rate limited) answers the stream got in the last run.", true, V_INT, SF(http_429)},
    {"flowetl_stream_last_run_response_bytes",
     "Response body bytes the stream received in the last run.", true, V_INT, SF(bytes)},
};

#define NFAMILIES (sizeof stream_families / sizeof stream_families[0])

static bool put_header(buf *out, const char *name, const char *help)
{
    return buf_printf(out, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

static bool put_labels(buf *out, const metrics_stream *s)
{
    return buf_puts(out, "{source=\"") && metrics_put_label_value(out, s->source) &&
           buf_puts(out, "\",stream=\"") && metrics_put_label_value(out, s->stream) &&
           buf_puts(out, "\",type=\"") && metrics_put_label_value(out, s->type) &&
           buf_puts(out, "\"");
}

static int64_t stream_int(const stream_family *f, const metrics_stream *s, const metrics_run *r)
{
    if (f->offset != COMPUTED) {
        int64_t v;
        memcpy(&v, (const char *)s + f->offset, sizeof v);
        return v;
    }
    if (strcmp(f->name, "flowetl_stream_last_run_timestamp_seconds") == 0)
        return r->ended;
    return s->status && strcmp(s->status, "failed") == 0 ? 1 : 0;
}

/* Whether stream s has a sample of family f: the last-run families for the
 * streams the run selected; the last success when known (without the warehouse,
 * a stream that did not succeed in this run has none: unknown is not "never"). */
static bool has_sample(const stream_family *f, const metrics_stream *s, const metrics_run *r)
{
    if (f->last_run)
        return s->ran;
    return r->warehouse_up || s->last_success != 0;
}

static bool put_stream_family(buf *out, const stream_family *f, const metrics_run *r)
{
    bool any = false;
    for (int i = 0; i < r->nstreams; i++)
        any = any || has_sample(f, &r->streams[i], r);
    if (!any)
        return true;
    if (!put_header(out, f->name, f->help))
        return false;
    for (int i = 0; i < r->nstreams; i++) {
        const metrics_stream *s = &r->streams[i];
        if (!has_sample(f, s, r))
            continue;
        if (!buf_puts(out, f->name) || !put_labels(out, s))
            return false;
        bool ok = f->kind == V_SECONDS ? buf_printf(out, "} %.3f\n", s->seconds)
                                       : buf_printf(out, "} %" PRId64 "\n", stream_int(f, s, r));
        if (!ok)
            return false;
    }
    return true;
}

/* flowetl_stream_last_run_status: one series per status, 1 for the stream's. */
static bool put_status_family(buf *out, const metrics_run *r)
{
    const char *name = "flowetl_stream_last_run_status";
    bool any = false;
    for (int i = 0; i < r->nstreams; i++)
        any = any || r->streams[i].ran;
    if (!any)
        return true;
    if (!put_header(out, name,
                    "The stream's outcome in the last run: 1 for its status "
                    "(succeeded, failed, interrupted, skipped), 0 for the others."))
        return false;
    for (int i = 0; i < r->nstreams; i++) {
        const metrics_stream *s = &r->streams[i];
        if (!s->ran)
            continue;
        for (int k = 0; k < METRICS_NSTATUS; k++) {
            bool is = s->status && strcmp(s->status, metrics_statuses[k]) == 0;
            if (!buf_puts(out, name) || !put_labels(out, s) ||
                !buf_printf(out, ",status=\"%s\"} %d\n", metrics_statuses[k], is ? 1 : 0))
                return false;
        }
    }
    return true;
}

static bool put_run_gauge(buf *out, const char *name, const char *help, int64_t v)
{
    return put_header(out, name, help) && buf_printf(out, "%s %" PRId64 "\n", name, v);
}

static bool put_run(buf *out, const metrics_run *r)
{
    return put_run_gauge(out, "flowetl_run_id",
                         "etl.run.run_id of the last run (0: the warehouse was not reached).",
                         r->run_id) &&
           put_run_gauge(
               out, "flowetl_run_exit_code",
               "Exit code of the last run (0 ok, 1 a stream failed, 2 usage or "
               "configuration, 3 warehouse, 4 skipped, 5 verification differences, 130/143 "
               "signal).",
               r->exit_code) &&
           put_run_gauge(out, "flowetl_run_start_timestamp_seconds",
                         "Unix time the last run started.", r->started) &&
           put_run_gauge(out, "flowetl_run_end_timestamp_seconds", "Unix time the last run ended.",
                         r->ended) &&
           put_run_gauge(out, "flowetl_warehouse_up",
                         "1 when the warehouse answered at the end of the last run, else 0 (the "
                         "last-success times are then only what the run itself saw).",
                         r->warehouse_up ? 1 : 0);
}

fe_rc metrics_format(const metrics_run *r, buf *out, fe_err *err)
{
    bool ok = put_run(out, r) && put_status_family(out, r);
    for (size_t f = 0; ok && f < NFAMILIES; f++)
        ok = put_stream_family(out, &stream_families[f], r);
    return ok ? FE_OK : fe_err_set(err, FE_ENOMEM, "out of memory formatting the metrics");
}

/* ---- the atomic write ----------------------------------------------------- */

static fe_rc write_all(int fd, const char *text, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, text, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return FE_EIO;
        text += n;
        len -= (size_t)n;
    }
    return FE_OK;
}

/* fsync of the directory that holds path, so the rename itself is durable. */
static void sync_dir_of(const char *path)
{
    char *copy = strdup(path);
    if (!copy)
        return;
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    free(copy);
}

fe_rc metrics_write_file(const char *path, const char *text, size_t len, fe_err *err)
{
    char tmp[4096];
    fe_rc rc = FE_OK;
    const char *step = "create";
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return fe_err_set(err, FE_EIO, "metrics file %s: path too long", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return fe_err_set(err, FE_EIO, "metrics file %s: %s", tmp, strerror(errno));
    if (fchmod(fd, 0644) != 0)
        rc = FE_EIO, step = "chmod";
    else if (write_all(fd, text, len) != FE_OK)
        rc = FE_EIO, step = "write";
    else if (fsync(fd) != 0)
        rc = FE_EIO, step = "fsync";
    int saved = errno;
    if (close(fd) != 0 && rc == FE_OK)
        rc = FE_EIO, step = "close", saved = errno;
    if (rc == FE_OK && rename(tmp, path) != 0)
        rc = FE_EIO, step = "rename", saved = errno;
    if (rc != FE_OK) {
        (void)unlink(tmp);
        return fe_err_set(err, rc, "metrics file %s: %s: %s", path, step, strerror(saved));
    }
    sync_dir_of(path);
    return FE_OK;
}
