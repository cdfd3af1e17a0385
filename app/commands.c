/* commands: `flowetl init` and `check`. */
#include "commands.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/log.h"
#include "../load/migrate.h"
#include "../load/pg.h"
#include "source_env.h"

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
    if (migrate_apply(conn, &applied, &err) != FE_OK) {
        log_error(NULL, "init failed: %s", err.msg);
        code = 1;
    } else {
        printf("warehouse schema is up to date (%d migration(s) applied now)\n", applied);
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

static bool check_source(const source_conf *conf)
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
        (def->check && def->check(conf, env.http, env.state, &out, &err) != FE_OK)) {
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
        printf("warehouse: ok (%s)\n", PQdb(conn));
    }
    if (conn)
        PQfinish(conn);
    for (size_t i = 0; i < cfg->nsources; i++)
        if (!check_source(&cfg->sources[i]) && code == 0)
            code = 1;
    fflush(stdout);
    return code;
}
