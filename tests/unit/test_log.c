/* Unit tests for core/log: redaction, line format, threshold, whole lines under
 * threads, JSON lines (escaping, cuts, redaction, fields), the run id, live lines
 * and URL masking. */
#include <CUnit/Basic.h>
#include <math.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yajl/yajl_tree.h>

#include "core/log.h"

static const char *const SECRETS[] = {
    "demo-secret", "s3cr3t-token-0123", "abc", "", "s3cr3t-token-0123-longer", NULL};

static void setup_secrets(void)
{
    log_init(LOG_INFO, SECRETS, 6);
}

static void test_redact_replaces_every_secret(void)
{
    setup_secrets();
    char out[256];
    log_redact(out, sizeof out,
               "login demo/demo-secret then Bearer s3cr3t-token-0123 and "
               "demo-secretdemo-secret");
    CU_ASSERT_STRING_EQUAL(out, "login demo/*** then Bearer *** and ******");
    log_term();
}

static void test_redact_short_and_empty_are_not_secrets(void)
{
    setup_secrets();
    char out[64];
    /* "abc" is shorter than 4 bytes: redacting it would eat ordinary words */
    log_redact(out, sizeof out, "abc abcdef");
    CU_ASSERT_STRING_EQUAL(out, "abc abcdef");
    log_term();
}

static void test_redact_longest_match_wins(void)
{
    setup_secrets();
    char out[128];
    log_redact(out, sizeof out, "x s3cr3t-token-0123-longer y");
    CU_ASSERT_STRING_EQUAL(out, "x *** y");
    log_term();
}

static void test_redact_truncates_without_leaking(void)
{
    setup_secrets();
    char out[12];
    /* the secret starts inside the limit but does not fit: no byte of it may appear */
    log_redact(out, sizeof out, "0123456789demo-secret");
    CU_ASSERT_STRING_EQUAL(out, "0123456789");
    char tiny[8];
    log_redact(tiny, sizeof tiny, "ab demo-secret");
    CU_ASSERT_STRING_EQUAL(tiny, "ab ***");
    log_term();
}

/* Server text bound for a fixed buffer (a Goflow report's error.message, 200
 * bytes) goes through log_redact, which masks before it cuts: a long secret that
 * straddles the cut leaves no piece (cut first, its first 39 bytes would stay). */
static void test_redact_long_secret_across_the_cut(void)
{
    static const char *const secrets[] = {
        "gf-LONG-0123456789abcdefghijklmnopqrstuvwxyz-0123456789ABCDEFGHIJKLMNOP"};
    char src[400], out[200];
    memset(src, 'm', 160);
    snprintf(src + 160, sizeof src - 160, "%s was refused", secrets[0]);
    log_init(LOG_INFO, secrets, 1);
    log_redact(out, sizeof out, src);
    CU_ASSERT_EQUAL(strlen(out), 160 + strlen("*** was refused"));
    CU_ASSERT_STRING_EQUAL(out + 160, "*** was refused");
    log_term();
}

/* Text that came whole keeps its every byte, even when it is not UTF-8 (a
 * windows-1251 error page ends in a byte that looks like a lead byte); only a cut
 * steps back to a character boundary. */
static void test_redact_whole_text_keeps_its_bytes(void)
{
    setup_secrets();
    char out[32];
    log_redact(out, sizeof out, "\xF8\xEB\xFE\xE7\xE0");
    CU_ASSERT_STRING_EQUAL(out, "\xF8\xEB\xFE\xE7\xE0");
    char cut[6];
    log_redact(cut, sizeof cut, "ab\xD0\x96\xD0\x96"); /* abЖЖ in 5 bytes: cut inside the 2nd */
    CU_ASSERT_STRING_EQUAL(cut, "ab\xD0\x96");
    log_term();
}

static void test_redact_without_init_copies(void)
{
    log_term();
    char out[32];
    log_redact(out, sizeof out, "demo-secret");
    CU_ASSERT_STRING_EQUAL(out, "demo-secret");
}

/* Runs fn with stderr sent to a temp file; returns what was written (caller frees). */
static char *capture_stderr(void (*fn)(void))
{
    char path[] = "/tmp/test_log_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return NULL;
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    fn();
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    off_t size = lseek(fd, 0, SEEK_END);
    char *text = calloc(1, (size_t)size + 1);
    if (text && pread(fd, text, (size_t)size, 0) != size) {
        free(text);
        text = NULL;
    }
    close(fd);
    unlink(path);
    return text;
}

static void write_some_lines(void)
{
    log_info("posiflora_main.orders", "token %s rejected", "s3cr3t-token-0123");
    log_debug("x", "not shown at INFO");
    log_error(NULL, "plain %d\n", 42);
    log_warn("w", "careful");
}

static bool matches(const char *text, const char *re)
{
    regex_t rx;
    if (regcomp(&rx, re, REG_EXTENDED | REG_NEWLINE) != 0)
        return false;
    bool ok = regexec(&rx, text, 0, NULL, 0) == 0;
    regfree(&rx);
    return ok;
}

static void test_line_format_and_threshold(void)
{
    setup_secrets();
    CU_ASSERT_TRUE(log_enabled(LOG_WARN));
    CU_ASSERT_FALSE(log_enabled(LOG_DEBUG));
    char *text = capture_stderr(write_some_lines);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    const char *ts = "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z";
    char re[512];
    snprintf(re, sizeof re,
             "^%s INFO  posiflora_main\\.orders: token \\*\\*\\* rejected\n"
             "%s ERROR plain 42\n"
             "%s WARN  w: careful\n$",
             ts, ts, ts);
    CU_ASSERT_TRUE(matches(text, re));
    CU_ASSERT_PTR_NULL(strstr(text, "s3cr3t"));
    CU_ASSERT_PTR_NULL(strstr(text, "not shown"));
    free(text);
    log_term();
}

static void write_long_line(void)
{
    char pad[4090];
    memset(pad, 'x', sizeof pad - 1);
    pad[sizeof pad - 1] = '\0';
    /* the secret starts just before the 4 KiB line limit */
    log_info(NULL, "%s demo-secret and more", pad);
}

static void test_long_line_cut_after_redaction(void)
{
    setup_secrets();
    char *text = capture_stderr(write_long_line);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_PTR_NULL(strstr(text, "demo"));
    size_t len = strlen(text);
    CU_ASSERT_TRUE(len > 4000 && len <= 4096 + 32);
    CU_ASSERT_EQUAL(text[len - 1], '\n');
    free(text);
    log_term();
}

#define THREADS 4
#define LINES_PER_THREAD 300

static void *log_many(void *arg)
{
    long id = (long)arg;
    for (int i = 0; i < LINES_PER_THREAD; i++)
        log_info("thread", "t%ld line %d with demo-secret inside and some padding text", id, i);
    return NULL;
}

static void run_threads(void)
{
    pthread_t th[THREADS];
    for (long i = 0; i < THREADS; i++)
        pthread_create(&th[i], NULL, log_many, (void *)i);
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
}

static void test_threads_write_whole_lines(void)
{
    setup_secrets();
    char *text = capture_stderr(run_threads);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    int lines = 0, bad = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        lines++;
        if (!matches(line, "^[0-9T:Z-]{20} INFO  thread: t[0-3] line [0-9]+ with \\*\\*\\* "
                           "inside and some padding text$"))
            bad++;
    }
    CU_ASSERT_EQUAL(lines, THREADS * LINES_PER_THREAD);
    CU_ASSERT_EQUAL(bad, 0);
    free(text);
    log_term();
}

/* A secret that only exists at run time (a session token) is masked from the
 * moment it is registered, in log lines and in log_redact_dup copies. */
static void write_token_line(void)
{
    log_error("posiflora_main", "HTTP 500: {\"error\":\"bad token tok-RUNTIME-9f8e7d\"}");
}

static void test_runtime_secret_redacted(void)
{
    setup_secrets();
    char out[128];
    log_redact(out, sizeof out, "Bearer tok-RUNTIME-9f8e7d");
    CU_ASSERT_STRING_EQUAL(out, "Bearer tok-RUNTIME-9f8e7d"); /* not registered yet */
    CU_ASSERT_TRUE(log_add_secret("tok-RUNTIME-9f8e7d"));
    CU_ASSERT_TRUE(log_add_secret("tok-RUNTIME-9f8e7d")); /* twice is fine */
    CU_ASSERT_TRUE(log_add_secret("ab"));                 /* too short: ignored */
    CU_ASSERT_TRUE(log_add_secret(NULL));
    log_redact(out, sizeof out, "Bearer tok-RUNTIME-9f8e7d, ab, demo-secret");
    CU_ASSERT_STRING_EQUAL(out, "Bearer ***, ab, ***");
    char *text = capture_stderr(write_token_line);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_PTR_NULL(strstr(text, "RUNTIME"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "bad token ***"));
    free(text);
    log_term();
    log_redact(out, sizeof out, "tok-RUNTIME-9f8e7d");
    CU_ASSERT_STRING_EQUAL(out, "tok-RUNTIME-9f8e7d"); /* log_term forgets them */
}

static void test_redact_dup_whole_text(void)
{
    setup_secrets();
    CU_ASSERT_TRUE(log_add_secret("refresh-XYZ-0001"));
    size_t n = 100000;
    char *big = malloc(n + 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(big);
    memset(big, 'x', n);
    big[n] = '\0';
    memcpy(big + n - 20, "refresh-XYZ-0001", 16); /* far past any fixed line size */
    char *clean = log_redact_dup(big);
    CU_ASSERT_PTR_NOT_NULL_FATAL(clean);
    CU_ASSERT_EQUAL(strlen(clean), n - 13);
    CU_ASSERT_PTR_NULL(strstr(clean, "refresh-XYZ"));
    CU_ASSERT_EQUAL(memcmp(clean + n - 20, "***xxxx", 7), 0);
    CU_ASSERT_PTR_NULL(log_redact_dup(NULL));
    free(clean);
    free(big);
    log_term();
}

/* Workers register their tokens while others redact: every registered token is
 * masked afterwards, nothing is lost or torn, and ASan/TSan-style checks see no
 * race (the registry is locked). */
#define REG_THREADS 4
#define REG_PER_THREAD 500

static void *register_many(void *arg)
{
    long id = (long)arg;
    char tok[64], line[160], out[160];
    for (int i = 0; i < REG_PER_THREAD; i++) {
        snprintf(tok, sizeof tok, "tok-%ld-%04d-secret", id, i);
        if (!log_add_secret(tok))
            return (void *)1;
        snprintf(line, sizeof line, "got %s now", tok);
        log_redact(out, sizeof out, line);
        if (strcmp(out, "got *** now") != 0)
            return (void *)1;
    }
    return NULL;
}

static void test_concurrent_registration(void)
{
    setup_secrets();
    pthread_t th[REG_THREADS];
    for (long i = 0; i < REG_THREADS; i++)
        pthread_create(&th[i], NULL, register_many, (void *)i);
    int bad = 0;
    for (int i = 0; i < REG_THREADS; i++) {
        void *r;
        pthread_join(th[i], &r);
        bad += r != NULL;
    }
    CU_ASSERT_EQUAL(bad, 0);
    char tok[64], out[64];
    for (long t = 0; t < REG_THREADS; t++)
        for (int i = 0; i < REG_PER_THREAD; i += 97) {
            snprintf(tok, sizeof tok, "tok-%ld-%04d-secret", t, i);
            log_redact(out, sizeof out, tok);
            CU_ASSERT_STRING_EQUAL(out, "***");
        }
    log_redact(out, sizeof out, "demo-secret"); /* the config's are still there */
    CU_ASSERT_STRING_EQUAL(out, "***");
    log_term();
}

/* ---- JSON lines ---------------------------------------------------------------- */

/* The line of text (one line, newline included) parsed; NULL when it is not JSON. */
static yajl_val parse_line(const char *line)
{
    char errbuf[256];
    return yajl_tree_parse(line, errbuf, sizeof errbuf);
}

static const char *jstr(yajl_val v, const char *key)
{
    const char *path[] = {key, NULL};
    yajl_val x = yajl_tree_get(v, path, yajl_t_string);
    return x ? YAJL_GET_STRING(x) : NULL;
}

static bool jnull(yajl_val v, const char *key)
{
    const char *path[] = {key, NULL};
    yajl_val x = yajl_tree_get(v, path, yajl_t_any);
    return x && YAJL_IS_NULL(x);
}

static long long jint(yajl_val v, const char *key)
{
    const char *path[] = {key, NULL};
    yajl_val x = yajl_tree_get(v, path, yajl_t_number);
    return x && YAJL_IS_INTEGER(x) ? YAJL_GET_INTEGER(x) : -999;
}

static void write_hostile_json(void)
{
    log_event(LOG_WARN, "posiflora_main.orders", "reject",
              LOG_FIELDS(LOG_STR("reason", "a \"quoted\" \\ back\tslash\x01"),
                         LOG_INT("status", 503), LOG_NUM("rate", 2.5), LOG_NUM("eta_s", NAN),
                         LOG_BOOL("full", true), LOG_STR("cursor", NULL)),
              "say \"hi\"\n\tnew line \x1f bell\x07 bad \xff\xfe utf8 \xD0\x96 end");
}

static void test_json_escaping(void)
{
    setup_secrets();
    log_set_format(LOG_FORMAT_JSON);
    char *text = capture_stderr(write_hostile_json);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_PTR_NOT_NULL(strchr(text, '\n'));
    CU_ASSERT_PTR_NULL(strchr(text, '\n') ? strchr(strchr(text, '\n') + 1, '\n') : NULL);
    yajl_val v = parse_line(text);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    CU_ASSERT_STRING_EQUAL(jstr(v, "msg"),
                           "say \"hi\"\n\tnew line \x1f bell\x07 bad ?? utf8 \xD0\x96 end");
    CU_ASSERT_STRING_EQUAL(jstr(v, "reason"), "a \"quoted\" \\ back\tslash\x01");
    CU_ASSERT_STRING_EQUAL(jstr(v, "level"), "warn");
    CU_ASSERT_STRING_EQUAL(jstr(v, "event"), "reject");
    CU_ASSERT_STRING_EQUAL(jstr(v, "source"), "posiflora_main");
    CU_ASSERT_STRING_EQUAL(jstr(v, "stream"), "orders");
    CU_ASSERT_TRUE(jnull(v, "run_id"));
    CU_ASSERT_TRUE(jnull(v, "eta_s"));
    CU_ASSERT_TRUE(jnull(v, "cursor"));
    CU_ASSERT_EQUAL(jint(v, "status"), 503);
    const char *rate[] = {"rate", NULL}, *full[] = {"full", NULL};
    yajl_val r = yajl_tree_get(v, rate, yajl_t_number);
    CU_ASSERT_TRUE(r && YAJL_GET_DOUBLE(r) == 2.5);
    CU_ASSERT_TRUE(YAJL_IS_TRUE(yajl_tree_get(v, full, yajl_t_any)));
    CU_ASSERT_TRUE(matches(jstr(v, "time"),
                           "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$"));
    yajl_tree_free(v);
    free(text);
    log_term();
}

static void write_long_json(void)
{
    /* 3000 two-byte characters, a secret at the very end: cut between characters */
    static char big[6100];
    for (int i = 0; i < 3000; i++)
        memcpy(big + 2 * i, "\xD0\x96", 2);
    snprintf(big + 6000, sizeof big - 6000, "demo-secret");
    log_event(LOG_INFO, NULL, "log", LOG_NO_FIELDS, "%s", big);
    log_info("a.b", "%s", big + 1); /* starts inside a character */
}

static void test_json_long_message_cut_between_characters(void)
{
    setup_secrets();
    log_set_format(LOG_FORMAT_JSON);
    char *text = capture_stderr(write_long_json);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_PTR_NULL(strstr(text, "demo"));
    int n = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"), n++) {
        yajl_val v = parse_line(line);
        CU_ASSERT_PTR_NOT_NULL_FATAL(v);
        const char *msg = jstr(v, "msg");
        CU_ASSERT_PTR_NOT_NULL_FATAL(msg);
        size_t len = strlen(msg);
        CU_ASSERT_TRUE(len > 4000 && len < 4096);
        CU_ASSERT_EQUAL(len % 2, n == 0 ? 0 : 1); /* whole characters ("?" + pairs) */
        CU_ASSERT_EQUAL(memcmp(msg + len - 2, "\xD0\x96", 2), 0);
        yajl_tree_free(v);
    }
    CU_ASSERT_EQUAL(n, 2);
    free(text);
    log_term();
}

static void write_secret_json(void)
{
    log_thread_ctx("src_demo-secret.stream");
    log_event(LOG_ERROR, "src_demo-secret", "retry",
              LOG_FIELDS(LOG_STR("url", "https://h/x?u=s3cr3t-token-0123"),
                         LOG_STR("reason", "Bearer s3cr3t-token-0123 refused")),
              "login with demo-secret failed");
    log_thread_ctx(NULL);
}

static void test_json_redaction(void)
{
    setup_secrets();
    log_set_format(LOG_FORMAT_JSON);
    log_set_run_id(42);
    char *text = capture_stderr(write_secret_json);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_PTR_NULL(strstr(text, "demo-secret"));
    CU_ASSERT_PTR_NULL(strstr(text, "s3cr3t"));
    yajl_val v = parse_line(text);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    CU_ASSERT_STRING_EQUAL(jstr(v, "msg"), "login with *** failed");
    CU_ASSERT_STRING_EQUAL(jstr(v, "reason"), "Bearer *** refused");
    CU_ASSERT_STRING_EQUAL(jstr(v, "url"), "https://h/x?u=***");
    CU_ASSERT_STRING_EQUAL(jstr(v, "source"), "src_***");
    CU_ASSERT_STRING_EQUAL(jstr(v, "stream"), "stream"); /* from the thread's ctx */
    CU_ASSERT_EQUAL(jint(v, "run_id"), 42);
    yajl_tree_free(v);
    free(text);
    log_term();
}

static void write_text_lines(void)
{
    log_info("posiflora_main.orders", "before");
    log_set_run_id(7);
    log_event(LOG_INFO, "posiflora_main.orders", "stream_end", LOG_FIELDS(LOG_INT("records", 5)),
              "done: 5 records");
    log_warn(NULL, "no ctx");
}

static void test_text_run_id(void)
{
    setup_secrets();
    char *text = capture_stderr(write_text_lines);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    const char *ts = "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z";
    char re[512];
    snprintf(re, sizeof re,
             "^%s INFO  posiflora_main\\.orders: before\n"
             "%s INFO  run=7 posiflora_main\\.orders: done: 5 records\n"
             "%s WARN  run=7 no ctx\n$",
             ts, ts, ts);
    CU_ASSERT_TRUE(matches(text, re));
    free(text);
    log_term();
    CU_ASSERT_EQUAL(log_run_id(), 0); /* log_term forgets it */
}

static void test_format_parse(void)
{
    log_format f = LOG_FORMAT_TEXT;
    CU_ASSERT_TRUE(log_format_parse("json", &f));
    CU_ASSERT_EQUAL(f, LOG_FORMAT_JSON);
    CU_ASSERT_TRUE(log_format_parse("text", &f));
    CU_ASSERT_EQUAL(f, LOG_FORMAT_TEXT);
    CU_ASSERT_FALSE(log_format_parse("JSON", &f));
    CU_ASSERT_FALSE(log_format_parse("", &f));
    CU_ASSERT_FALSE(log_format_parse(NULL, &f));
}

static void write_around_live(void)
{
    log_live("a.b  1 records\nc.d  2 records");
    log_info("x", "between");
    log_live(NULL);
    log_info("x", "after");
}

/* A log line erases the live block (two lines up, each cleared), prints, and
 * draws the block again below itself; removing it erases it. */
static void test_live_lines_around_log_lines(void)
{
    setup_secrets();
    char *text = capture_stderr(write_around_live);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    const char *erase2 = "\r\033\\[1A\033\\[2K\r\033\\[1A\033\\[2K";
    const char *ts = "[0-9T:Z-]{20}";
    char re[512];
    snprintf(re, sizeof re,
             "^a\\.b  1 records\nc\\.d  2 records\n%s%s INFO  x: between\na\\.b  1 records\n"
             "c\\.d  2 records\n%s%s INFO  x: after\n$",
             erase2, ts, erase2, ts);
    CU_ASSERT_TRUE(matches(text, re));
    free(text);
    log_term();
}

static void test_mask_url(void)
{
    setup_secrets();
    char out[256];
    log_mask_url("https://user:pw@api.example.com:8443/v1/x?page=2&access_token=abc&API_KEY=k1"
                 "&sig=zz&password=p#frag",
                 out, sizeof out);
    CU_ASSERT_STRING_EQUAL(out, "https://api.example.com:8443/v1/x?page=2&access_token=***"
                                "&API_KEY=***&sig=***&password=***#frag");
    log_mask_url("http://h/p?a=1&b&token=&Session=s", out, sizeof out);
    CU_ASSERT_STRING_EQUAL(out, "http://h/p?a=1&b&token=***&Session=***");
    log_mask_url("http://h/p?q=demo-secret", out, sizeof out); /* the registry applies */
    CU_ASSERT_STRING_EQUAL(out, "http://h/p?q=***");
    log_mask_url("/v1/orders?page%5Bnumber%5D=1", out, sizeof out); /* no scheme */
    CU_ASSERT_STRING_EQUAL(out, "/v1/orders?page%5Bnumber%5D=1");
    log_mask_url("http://h/a@b?x=1", out, sizeof out); /* an '@' in the path is not user info */
    CU_ASSERT_STRING_EQUAL(out, "http://h/a@b?x=1");
    char tiny[12];
    log_mask_url("http://h/\xD0\x96\xD0\x96\xD0\x96", tiny, sizeof tiny);
    CU_ASSERT_STRING_EQUAL(tiny, "http://h/\xD0\x96");
    log_term();
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    CU_pSuite s = CU_add_suite("log", NULL, NULL);
    CU_add_test(s, "redact replaces every secret", test_redact_replaces_every_secret);
    CU_add_test(s, "short and empty secrets ignored", test_redact_short_and_empty_are_not_secrets);
    CU_add_test(s, "longest match wins", test_redact_longest_match_wins);
    CU_add_test(s, "a long secret across the cut", test_redact_long_secret_across_the_cut);
    CU_add_test(s, "truncation leaks nothing", test_redact_truncates_without_leaking);
    CU_add_test(s, "whole text keeps its bytes", test_redact_whole_text_keeps_its_bytes);
    CU_add_test(s, "no secrets before init", test_redact_without_init_copies);
    CU_add_test(s, "line format and threshold", test_line_format_and_threshold);
    CU_add_test(s, "threads write whole lines", test_threads_write_whole_lines);
    CU_add_test(s, "long line cut after redaction", test_long_line_cut_after_redaction);
    CU_add_test(s, "run-time secret redacted", test_runtime_secret_redacted);
    CU_add_test(s, "redact_dup redacts whole text", test_redact_dup_whole_text);
    CU_add_test(s, "concurrent registration", test_concurrent_registration);
    CU_add_test(s, "JSON escaping", test_json_escaping);
    CU_add_test(s, "JSON long message cut between characters",
                test_json_long_message_cut_between_characters);
    CU_add_test(s, "JSON redaction", test_json_redaction);
    CU_add_test(s, "text lines carry the run id", test_text_run_id);
    CU_add_test(s, "format names", test_format_parse);
    CU_add_test(s, "live lines around log lines", test_live_lines_around_log_lines);
    CU_add_test(s, "URL masking", test_mask_url);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failures = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failures != 0;
}
