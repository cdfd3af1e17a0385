/* test_skeleton: the registry's contract, checked for every registered source and for
 * the skeleton source of tests/skeleton (what docs/internals.md's "adding a source"
 * describes): a type with its own keys that config_load accepts next to the real
 * ones, streams, callbacks; and the skeleton's stream run against the fake HTTP
 * server into the row recorder. */
#include <CUnit/Basic.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/config.h"
#include "extract/http.h"
#include "sources/source.h"
#include "tests/skeleton/skeleton.h"
#include "tests/unit/fake_http.h"
#include "tests/unit/row_recorder.h"

#define MAX_TYPES 16

/* The registered types plus the skeleton's, as a newcomer's registry line would add. */
typedef struct {
    const config_source_type *types[MAX_TYPES];
    config_schema schema;
} schema_with_skeleton;

static void schema_init(schema_with_skeleton *s)
{
    size_t n;
    const source_def *const *all = source_all(&n);
    CU_ASSERT_FATAL(n + 1 <= MAX_TYPES);
    for (size_t i = 0; i < n; i++)
        s->types[i] = &all[i]->type;
    s->types[n] = &skeleton_source.type;
    s->schema = (config_schema){s->types, n + 1};
}

/* What every source_def must hold for the runner, the CLI and config_load. */
static void check_contract(const source_def *d)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(d->type.name);
    CU_ASSERT(strlen(d->type.name) > 0);
    CU_ASSERT(strspn(d->type.name, "abcdefghijklmnopqrstuvwxyz0123456789_") ==
              strlen(d->type.name));
    CU_ASSERT(d->type.nkeys == 0 || d->type.keys != NULL);
    for (size_t k = 0; k < d->type.nkeys; k++) {
        const config_key *e = &d->type.keys[k];
        CU_ASSERT_STRING_EQUAL(e->section, "source");
        CU_ASSERT_PTR_NOT_NULL_FATAL(e->doc);
        CU_ASSERT(strlen(e->doc) > 10 && e->doc[strlen(e->doc) - 1] == '.');
        CU_ASSERT(!e->required || e->def == NULL);
        CU_ASSERT(strcmp(e->key, "type") != 0);
        if (k > 0)
            CU_ASSERT(strcmp(d->type.keys[k - 1].key, e->key) < 0);
    }
    CU_ASSERT_FATAL(d->nstreams > 0);
    for (int i = 0; i < d->nstreams; i++) {
        CU_ASSERT_PTR_NOT_NULL(d->streams[i].name);
        CU_ASSERT_PTR_NOT_NULL(d->streams[i].run);
        for (int j = 0; j < i; j++)
            CU_ASSERT(strcmp(d->streams[j].name, d->streams[i].name) != 0);
    }
    CU_ASSERT(d->base_url && d->rate && d->open && d->close && d->check); /* account: optional */
}

static void test_registry_contract(void)
{
    size_t n;
    const source_def *const *all = source_all(&n);
    CU_ASSERT_FATAL(n >= 4);
    for (size_t i = 0; i < n; i++) {
        check_contract(all[i]);
        CU_ASSERT_PTR_EQUAL(source_find(all[i]->type.name), all[i]);
        CU_ASSERT_PTR_EQUAL(config_schema_type(source_schema(), all[i]->type.name), &all[i]->type);
        for (size_t j = 0; j < i; j++)
            CU_ASSERT(strcmp(all[i]->type.name, all[j]->type.name) != 0);
    }
    CU_ASSERT_EQUAL(source_schema()->ntypes, n);
    CU_ASSERT_PTR_NULL(source_find("skeleton")); /* a test source, never offered */
    check_contract(&skeleton_source);
}

/* What `flowetl rebind` expands: the keys the account is derived from. */
static void test_identity_keys(void)
{
    const char *keys[8];
    CU_ASSERT_EQUAL_FATAL(source_identity_keys(source_find("goflow"), keys, 8), 3);
    CU_ASSERT_STRING_EQUAL(keys[0], "account");
    CU_ASSERT_STRING_EQUAL(keys[1], "base_url");
    CU_ASSERT_STRING_EQUAL(keys[2], "subdomain");
    CU_ASSERT_EQUAL_FATAL(source_identity_keys(source_find("flowretail"), keys, 8), 3);
    CU_ASSERT_STRING_EQUAL(keys[2], "tenant");
    CU_ASSERT_EQUAL(source_identity_keys(&skeleton_source, keys, 8), 2);
    CU_ASSERT_EQUAL(source_identity_keys(NULL, keys, 8), 2); /* an unknown type */
    CU_ASSERT_EQUAL(source_identity_keys(source_find("goflow"), keys, 1), 1);
}

static void test_config_with_skeleton(void)
{
    schema_with_skeleton s;
    config *c = NULL;
    fe_err err = {0};
    schema_init(&s);
    const char *ok = "[source.ex]\ntype = skeleton\ntoken = secret-1\n";
    CU_ASSERT_EQUAL_FATAL(config_load_string(ok, "t.conf", &s.schema, &c, &err), FE_OK);
    CU_ASSERT_EQUAL_FATAL(config_resolve_source(c, "ex", NULL, 0, &err), FE_OK);
    const source_config *sc = config_source(c, "ex");
    CU_ASSERT_PTR_EQUAL(sc->type_keys, &skeleton_source.type);
    CU_ASSERT_STRING_EQUAL(config_str(sc, "token"), "secret-1");
    CU_ASSERT_STRING_EQUAL(config_str(sc, "base_url"), "https://api.example.com/v1");
    CU_ASSERT_STRING_EQUAL(config_str(sc, "retries"), "8"); /* a key of every type */
    buf account; /* no account callback: the host of base_url */
    buf_init(&account, 0);
    CU_ASSERT_EQUAL(source_account(&skeleton_source, sc, &account, &err), FE_OK);
    CU_ASSERT_STRING_EQUAL(buf_cstr(&account), "api.example.com");
    buf_term(&account);
    const char *secrets[4];
    CU_ASSERT_EQUAL(config_secrets(c, secrets, 4), 1);
    config_free(c);

    CU_ASSERT_EQUAL(
        config_load_string("[source.ex]\ntype = skeleton\n", "t.conf", &s.schema, &c, &err),
        FE_ECONFIG);
    CU_ASSERT_STRING_EQUAL(err.msg,
                           "t.conf:1: missing required key 'token' in [source.ex] (type skeleton)");
    CU_ASSERT_EQUAL(config_load_string("[source.ex]\ntype = skeleton\ntoken = t\nusername = u\n",
                                       "t.conf", &s.schema, &c, &err),
                    FE_ECONFIG);
    CU_ASSERT_STRING_EQUAL(err.msg, "t.conf:4: unknown key 'username' in [source.ex] (type "
                                    "skeleton)");
    CU_ASSERT_EQUAL(config_load_string("[source.ex]\ntype = nope\n", "t.conf", &s.schema, &c, &err),
                    FE_ECONFIG);
    /* Every type is offered, the newcomer last (a registry line adds one before it). */
    CU_ASSERT_PTR_NOT_NULL(
        strstr(err.msg, "t.conf:2: unknown source type 'nope' (one of: posiflora, "));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, ", flowretail, "));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, " skeleton)"));
    /* The registered schema alone does not know it. */
    CU_ASSERT_EQUAL(config_load_string(ok, "t.conf", source_schema(), &c, &err), FE_ECONFIG);
}

/* The fake API: the store list for the right token, 401 otherwise. */
static bool stores_route(void *user, int fd, const fake_http_req *req, const char *body,
                         size_t body_len)
{
    static const char list[] = "[{\"id\":\"s1\",\"name\":\"Main\"},{\"id\":\"s2\"}]";
    char head[256];
    (void)user;
    (void)body;
    (void)body_len;
    bool ok = strcmp(req->target, "/v1/stores") == 0 && strcmp(req->auth, "Bearer secret-1") == 0;
    const char *text = ok ? list : "{}";
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                     ok ? "200 OK" : "401 Unauthorized", strlen(text));
    return fake_http_send_all(fd, head, (size_t)n) && fake_http_send_all(fd, text, strlen(text));
}

/* Loads a config for the fake server with token, opens an HTTP client. */
static void run_stream(const char *token, fe_rc expect, recorder *rec)
{
    schema_with_skeleton s;
    config *c = NULL;
    fe_err err = {0};
    char text[256];
    schema_init(&s);
    fake_http *srv = fake_http_start(stores_route, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(srv);
    snprintf(text, sizeof text,
             "[source.ex]\ntype = skeleton\ntoken = %s\nbase_url = http://127.0.0.1:%d/v1\n", token,
             fake_http_port(srv));
    CU_ASSERT_EQUAL_FATAL(config_load_string(text, "t.conf", &s.schema, &c, &err), FE_OK);
    CU_ASSERT_EQUAL_FATAL(config_resolve_source(c, "ex", NULL, 0, &err), FE_OK);
    http_opts ho;
    http_opts_default(&ho);
    ho.backoff.max_retries = 0;
    http_client *http = http_client_new(&ho, NULL, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(http);
    stream_stats stats = {0};
    stream_ctx ctx = {.conf = config_source(c, "ex"),
                      .stream = "stores",
                      .logctx = "ex.stores",
                      .http = http,
                      .stats = &stats};
    row_sink rows = recorder_sink(rec);
    void *state = &ctx;
    CU_ASSERT_EQUAL(skeleton_source.open(ctx.conf, http, &stats, &state, &err), expect);
    CU_ASSERT_PTR_NULL(state);
    fe_rc rc = skeleton_read_stores(&ctx, &rows, &err);
    if (expect == FE_OK) {
        CU_ASSERT_EQUAL(rc, FE_OK);
        CU_ASSERT_EQUAL(stats.records, 2);
    } else {
        CU_ASSERT_NOT_EQUAL(rc, FE_OK);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "401"));
    }
    skeleton_source.close(NULL);
    http_client_free(http);
    config_free(c);
    fake_http_stop(srv);
}

static void test_stream_into_recorder(void)
{
    recorder rec = {0};
    run_stream("secret-1", FE_OK, &rec);
    CU_ASSERT_EQUAL_FATAL(rec.n, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(rec.rows[0], "store|store|s1|Main|"));
    CU_ASSERT_PTR_NOT_NULL(strstr(rec.rows[1], "store|store|s2|NULL|"));
    recorder_clear(&rec);
    run_stream("wrong", FE_EAUTH, &rec); /* open's probe: the credentials were refused */
    recorder_clear(&rec);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS || !http_global_init())
        return 1;
    CU_pSuite s = CU_add_suite("skeleton", NULL, NULL);
    CU_add_test(s, "registry contract", test_registry_contract);
    CU_add_test(s, "identity keys", test_identity_keys);
    CU_add_test(s, "config with the skeleton's keys", test_config_with_skeleton);
    CU_add_test(s, "stream into the recorder", test_stream_into_recorder);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    http_global_term();
    return failed ? 1 : 0;
}
