/* commands: `flowetl init` and `check`. */
#include "app/commands.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "load/migrate.h"
#include "load/pg.h"
#include "load/source_id.h"
#include "app/runner.h"
#include "app/source_env.h"

int command_init(const config *cfg)
{
    fe_err err = {0};
    int applied = 0;
    PGconn *conn = pg_connect(cfg->dsn, &err);

    if (!conn) {
        log_error(NULL, "cannot reach the warehouse: %s", err.msg);
        return 3;
    }
    int code = 0;
    migrate_layout want = LAYOUT_AUTO, layout = LAYOUT_SINGLE;
    if (!migrate_layout_parse(config_warehouse_str(cfg, "layout"), &want)) {
        /* The config's own check refuses other values; kept for a bad default. */
        log_error(NULL, "[warehouse] layout must be auto, single or citus");
        code = 2;
    } else if (migrate_apply(conn, want, &applied, &layout, &err) != FE_OK) {
        log_error(NULL, "init failed: %s", err.msg);
        code = 1;
    } else {
        printf("warehouse schema is up to date (%d migration(s) applied now; layout %s)\n", applied,
               migrate_layout_name(layout));
    }
    PQfinish(conn);
    return code;
}

/* `check` prints what the API and libpq answered: masked like every log line,
 * since an answer may echo a token. */
static void print_redacted(const char *before, const char *text, const char *after)
{
    char *clean = log_redact_dup(text);
    fputs(before, stdout);
    fputs(clean ? clean : "(not shown: out of memory while masking secrets)", stdout);
    fputs(after, stdout);
    free(clean);
}

/* The source's identity and its binding in dw.dim_source (conn NULL: the
 * warehouse cannot tell). False when `run` would refuse it. */
static bool check_identity(PGconn *conn, const source_config *conf)
{
    fe_err err = {0};
    buf account;
    int key = 0;
    bool ok = true;
    buf_init(&account, 4096);
    if (runner_source_account(conf, &account, &err) != FE_OK) {
        print_redacted("  identity: FAILED: ", err.msg, "\n");
        ok = false;
    } else if (!conn) {
        printf("  identity: %s account '%s'\n", conf->type, buf_cstr(&account));
    } else if (source_id_check(conn, conf->name, conf->type, buf_cstr(&account), &key, &err) !=
               FE_OK) {
        print_redacted("  identity: REFUSED: ", err.msg, "\n");
        ok = false;
    } else if (key) {
        printf("  identity: %s account '%s' (dw.dim_source key %d)\n", conf->type,
               buf_cstr(&account), key);
    } else {
        printf("  identity: %s account '%s' (not loaded yet)\n", conf->type, buf_cstr(&account));
    }
    buf_term(&account);
    return ok;
}

static bool check_source(const source_config *conf)
{
    fe_err err = {0};
    source_env env = {0};
    buf out;
    bool ok = false;
    const source_def *def = source_find(conf->type);

    buf_init(&out, 64 * 1024);
    printf("[source.%s] type %s\n", conf->name, conf->type);
    if (source_env_init_check(&env, conf, def, &err) != FE_OK ||
        source_env_open(&env, &err) != FE_OK ||
        (def->check && def->check(conf, env.http, env.state, &out, &err) != FE_OK) ||
        (def->describe_methods && def->describe_methods(conf, env.state, &out, &err) != FE_OK)) {
        if (out.len)
            print_redacted("", buf_cstr(&out), "");
        print_redacted("  FAILED: ", err.msg, "\n");
        goto cleanup;
    }
    print_redacted("", buf_cstr(&out), "");
    printf("  ok\n");
    ok = true;
cleanup:
    source_env_term(&env);
    buf_term(&out);
    return ok;
}

int command_check(const config *cfg)
{
    fe_err err = {0};
    int code = 0;
    PGconn *conn = pg_connect(cfg->dsn, &err);

    printf("config %s: ok, %zu source(s)\n", cfg->path, cfg->nsources);
    if (!conn) {
        print_redacted("warehouse: FAILED: ", err.msg, "\n");
        code = 3;
    } else if (migrate_check(conn, &err) != FE_OK) {
        print_redacted("warehouse: reachable, but ", err.msg, "\n");
        code = 2;
    } else {
        migrate_layout layout = LAYOUT_SINGLE;
        if (migrate_current_layout(conn, &layout, &err) != FE_OK)
            log_debug(NULL, "reading the warehouse layout: %s", err.msg);
        printf("warehouse: ok (database %s, layout %s)\n", PQdb(conn), migrate_layout_name(layout));
    }
    bool schema_ok = conn && code == 0;
    for (size_t i = 0; i < cfg->nsources; i++) {
        if (!check_source(&cfg->sources[i]) && code == 0)
            code = 1;
        if (!check_identity(schema_ok ? conn : NULL, &cfg->sources[i]) && code != 3)
            code = 2; /* `run` would refuse to load */
    }
    if (conn)
        PQfinish(conn);
    fflush(stdout);
    return code;
}
