/* progress: live progress lines (see progress.h). */
#include "app/progress.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"

/* Live lines must not wrap, or erasing them would leave pieces behind. */
#define PROGRESS_COLS 79

struct progress_line {
    progress *p;
    bool used;
    char label[96];
    int64_t records, expected;
    int64_t started_us;
};

struct progress {
    pthread_mutex_t mu;
    progress_line *lines;
    int nlines;
    int cols; /* a line is cut to this many bytes: the terminal's width - 1 */
    int64_t last_draw_us;
};

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

bool progress_live_wanted(const config *cfg)
{
    const char *mode = config_run_str(cfg, "progress");
    if (log_get_format() == LOG_FORMAT_JSON || (mode && strcmp(mode, "never") == 0))
        return false;
    if (mode && strcmp(mode, "always") == 0)
        return true;
    return isatty(STDERR_FILENO) == 1;
}

progress *progress_new(int max_lines)
{
    progress *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->lines = calloc(max_lines > 0 ? (size_t)max_lines : 1, sizeof *p->lines);
    if (!p->lines) {
        free(p);
        return NULL;
    }
    p->nlines = max_lines > 0 ? max_lines : 1;
    struct winsize ws;
    p->cols = PROGRESS_COLS;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1 && ws.ws_col <= PROGRESS_COLS)
        p->cols = ws.ws_col - 1;
    pthread_mutex_init(&p->mu, NULL);
    return p;
}

void progress_free(progress *p)
{
    if (!p)
        return;
    log_live(NULL);
    pthread_mutex_destroy(&p->mu);
    free(p->lines);
    free(p);
}

/* "1m05s", "31s", "2h03m" */
static void fmt_eta(char *dst, size_t size, double s)
{
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(dst, size, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else if (t >= 60)
        snprintf(dst, size, "%ldm%02lds", t / 60, t % 60);
    else
        snprintf(dst, size, "%lds", t);
}

void progress_format(char *dst, size_t size, const char *label, int64_t records, int64_t expected,
                     double seconds)
{
    char total[32] = "", rate[32] = "", eta[48] = "";
    double per_s = seconds > 0 ? (double)records / seconds : -1;
    if (expected > 0)
        snprintf(total, sizeof total, "/%" PRId64, expected);
    if (per_s >= 0)
        snprintf(rate, sizeof rate, "  %.0f rec/s", per_s);
    if (expected > records && per_s > 0) {
        char t[24];
        fmt_eta(t, sizeof t, (double)(expected - records) / per_s);
        snprintf(eta, sizeof eta, "  ETA %s", t);
    }
    size_t n = size < PROGRESS_COLS + 1 ? size : PROGRESS_COLS + 1;
    buf_textf(dst, n, "%s  %" PRId64 "%s records%s%s", label, records, total, rate, eta);
}

/* p->mu held: the block, one line per stream in use, to core/log. */
static void draw(progress *p, int64_t now)
{
    buf block;
    buf_init(&block, 0);
    bool ok = true;
    for (int i = 0; i < p->nlines && ok; i++) {
        progress_line *l = &p->lines[i];
        if (!l->used)
            continue;
        char text[PROGRESS_COLS + 1];
        progress_format(text, (size_t)p->cols + 1, l->label, l->records, l->expected,
                        (double)(now - l->started_us) / 1e6);
        ok = (block.len == 0 || buf_putc(&block, '\n')) && buf_puts(&block, text);
    }
    if (ok)
        log_live(buf_cstr(&block));
    buf_term(&block);
    p->last_draw_us = now;
}

progress_line *progress_line_open(progress *p, const char *label)
{
    progress_line *l = NULL;
    if (!p)
        return NULL;
    pthread_mutex_lock(&p->mu);
    for (int i = 0; i < p->nlines && !l; i++)
        if (!p->lines[i].used)
            l = &p->lines[i];
    if (l) {
        *l = (progress_line){.p = p, .used = true, .started_us = mono_us()};
        buf_textf(l->label, sizeof l->label, "%s", label);
        draw(p, mono_us());
    }
    pthread_mutex_unlock(&p->mu);
    return l;
}

void progress_line_update(progress_line *l, int64_t records, int64_t expected)
{
    if (!l)
        return;
    progress *p = l->p;
    pthread_mutex_lock(&p->mu);
    l->records = records;
    l->expected = expected;
    int64_t now = mono_us();
    if (now - p->last_draw_us >= PROGRESS_REDRAW_MS * 1000LL)
        draw(p, now);
    pthread_mutex_unlock(&p->mu);
}

void progress_line_close(progress_line *l)
{
    if (!l)
        return;
    progress *p = l->p;
    pthread_mutex_lock(&p->mu);
    l->used = false;
    draw(p, mono_us());
    pthread_mutex_unlock(&p->mu);
}
