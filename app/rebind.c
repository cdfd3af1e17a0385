/* rebind: `flowetl rebind NAME`. */
#include "app/rebind.h"

#include <stdio.h>

#include "core/log.h"
#include "load/migrate.h"
#include "load/pg.h"
#include "load/source_id.h"
#include "app/runner.h"

int rebind_command(const config *cfg, const char *name)
{
    fe_err err = {0};
    buf account, report;
    int code = 0;
    const source_config *conf = config_source(cfg, name);

    if (!conf) {
        log_error(NULL, "rebind: no [source.%s] in %s", name, cfg->path);
        return 2;
    }
    PGconn *conn = pg_connect(cfg->dsn, &err);
    if (!conn) {
        log_error(NULL, "%s", err.msg);
        return 3;
    }
    buf_init(&account, 4096);
    buf_init(&report, 64 * 1024);
    if (migrate_check(conn, &err) != FE_OK) {
        log_error(NULL, "%s", err.msg);
        code = err.code == FE_ECONFIG ? 2 : 3;
    } else if (runner_source_account(conf, &account, &err) != FE_OK ||
               source_id_rebind(conn, name, conf->type, buf_cstr(&account), &report, &err) !=
                   FE_OK) {
        log_error(NULL, "rebind %s: %s", name, err.msg);
        code = err.code == FE_ECONFIG ? 2 : 1;
    } else {
        printf("%s", buf_cstr(&report));
        fflush(stdout);
    }
    buf_term(&account);
    buf_term(&report);
    PQfinish(conn);
    return code;
}
