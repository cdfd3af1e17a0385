/* bench_long_string: how long json_stream takes to read (or refuse) one long JSON
 * string fed in 16 KiB chunks, the way libcurl hands a response over. Not a test:
 * it prints times. Usage: bench_long_string [MiB...] (default 16 80). For each size
 * it feeds {"data":[{"s":"xxx..."}]} twice: with the production record cap (4 MiB:
 * the string is refused) and without a cap (the record is read). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "extract/json_stream.h"

#define CHUNK (16 * 1024)

static fe_rc on_record(void *ctx, int which, const json_rec *rec, fe_err *err)
{
    size_t *got = ctx;
    const json_field *f = json_rec_get(rec, "s");
    (void)which;
    (void)err;
    if (f)
        *got = f->len;
    return FE_OK;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Feeds the document in CHUNK pieces; returns seconds, fills what happened. */
static double run(const char *doc, size_t len, size_t cap, char *outcome, size_t size)
{
    static const char *const paths[] = {"data[]"};
    size_t got = 0;
    fe_err err = {0};
    fe_rc rc = FE_OK;
    json_stream *js = json_stream_new(paths, 1, false, cap, on_record, &got);
    double t0 = now_s();
    for (size_t at = 0; at < len && rc == FE_OK; at += CHUNK)
        rc = json_stream_feed(js, doc + at, len - at < CHUNK ? len - at : CHUNK, &err);
    if (rc == FE_OK)
        rc = json_stream_finish(js, &err);
    double t = now_s() - t0;
    if (rc == FE_OK)
        snprintf(outcome, size, "read, string of %zu bytes", got);
    else
        snprintf(outcome, size, "refused: %s", err.msg);
    json_stream_free(js);
    return t;
}

int main(int argc, char **argv)
{
    static const char head[] = "{\"data\":[{\"s\":\"", tail[] = "\"}]}";
    long sizes[8] = {16, 80};
    int n = 2;
    if (argc > 1) {
        n = 0;
        for (int i = 1; i < argc && n < 8; i++)
            sizes[n++] = strtol(argv[i], NULL, 10);
    }
    for (int i = 0; i < n; i++) {
        size_t slen = (size_t)sizes[i] << 20, len = sizeof head - 1 + slen + sizeof tail - 1;
        char *doc = malloc(len), outcome[300];
        if (!doc)
            return 1;
        memcpy(doc, head, sizeof head - 1);
        memset(doc + sizeof head - 1, 'x', slen);
        memcpy(doc + sizeof head - 1 + slen, tail, sizeof tail - 1);
        double t = run(doc, len, (size_t)4 << 20, outcome, sizeof outcome);
        printf("%ld MiB string, cap 4 MiB: %.3f s (%s)\n", sizes[i], t, outcome);
        t = run(doc, len, 0, outcome, sizeof outcome);
        printf("%ld MiB string, no cap:    %.3f s (%s)\n", sizes[i], t, outcome);
        free(doc);
    }
    return 0;
}
