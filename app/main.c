/* flowetl: the command line. Parses arguments, reads the config once, sets up
 * logging (with the config's secrets redacted) and dispatches to a command. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"
#include "extract/http.h"
#include "load/pg.h"
#include "app/cmdline.h"
#include "app/commands.h"
#include "app/example_config.h"
#include "app/help.h"
#include "app/version.h"
#include "core/config.h"
#include "app/rebind.h"
#include "app/runner.h"
#include "app/state.h"
#include "app/state_args.h"
#include "app/status.h"
#include "app/verify.h"
#include "sources/source.h"

#define MAX_TYPED_ARGS 256
/* TCP keepalives of warehouse connections: a peer that died without closing the
 * connection is noticed in about a minute (idle 30 s + 3 probes 10 s apart). */
#define KEEPALIVE_IDLE_S 30
#define KEEPALIVE_INTERVAL_S 10
#define KEEPALIVE_COUNT 3

typedef struct {
    const char *config_path;
    int verbosity;          /* -1 quiet, 0 config, 1 verbose */
    const char *log_format; /* --log-format, NULL: [run] log_format */
    const char *command;
    const char **args; /* the command's targets, options removed (not owned) */
    int nargs;
    bool full_refresh;     /* run --full-refresh */
    bool json;             /* status --json */
    run_args run;          /* run's options (app/state_args.h) */
    state_args state;      /* state's subcommand and options */
    verify_request verify; /* verify's options */
} cli;

static const char *key_default(const config_key *k)
{
    return k->def ? (*k->def ? k->def : "empty") : "none";
}

/* Prints one key: plain text, or a row of the Markdown table README.md carries. */
static void print_config_key(const config_key_info *info, void *markdown)
{
    const config_key *k = info->key;
    const char *type = info->source_type;
    bool source = strcmp(k->section, "source") == 0;
    if (*(const bool *)markdown)
        printf("| `[%s%s]`%s%s | `%s` | %s | %s%s%s | %s%s |\n", k->section, source ? ".NAME" : "",
               type ? " type " : "", type ? type : "", k->key, config_type_name(k->type),
               k->def ? "`" : "", k->def ? key_default(k) : "—", k->def ? "`" : "", info->doc,
               k->required ? " **Required.**" : "");
    else
        printf("[%s%s]%s%s %s (%s, default %s%s)\n    %s\n", k->section, source ? ".NAME" : "",
               type ? " type=" : "", type ? type : "", k->key, config_type_name(k->type),
               key_default(k), k->required ? ", required" : "", info->doc);
}

/* Prints every key of every registered source type (so the documentation is
 * generated from the parser's own tables). */
static void print_config_keys(bool markdown)
{
    if (markdown)
        printf("| section | key | type | default | meaning |\n|---|---|---|---|---|\n");
    config_schema_each(source_schema(), print_config_key, &markdown);
}

/* Returns 0 to go on, or an exit code + 1 (so 1 means "exit 0"). */
static int parse_options(int argc, char **argv, cli *c)
{
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if ((strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) && i + 1 < argc)
            c->config_path = argv[++i];
        else if (strncmp(a, "--config=", 9) == 0)
            c->config_path = a + 9;
        else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0)
            c->verbosity = 1;
        else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0)
            c->verbosity = -1;
        else if (strncmp(a, "--log-format=", 13) == 0 || strcmp(a, "--log-format") == 0) {
            log_format f;
            c->log_format = a[12] == '=' ? a + 13 : i + 1 < argc ? argv[++i] : "";
            if (!log_format_parse(c->log_format, &f))
                return fprintf(stderr, "flowetl: --log-format must be text or json\n"), 3;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
            return help_overview(stdout), 1;
        else if (strcmp(a, "--version") == 0)
            return printf("flowetl %s\n", version_text()), 1;
        else if (strcmp(a, "--help-config") == 0)
            return print_config_keys(false), 1;
        else if (strcmp(a, "--help-config=markdown") == 0)
            return print_config_keys(true), 1;
        else if (strcmp(a, "--help-config=ini") == 0)
            return example_config_print(stdout, source_schema()) ? 1 : 2;
        else if (strcmp(a, "--help-man") == 0) /* the build's man page (undocumented) */
            return help_man_page(stdout), 1;
        else
            return fprintf(stderr, "flowetl: unknown option '%s' (see flowetl help)\n", a), 3;
    }
    if (i >= argc)
        return fputs("flowetl: no command given\n\n", stderr), help_overview(stderr), 3;
    c->command = argv[i++];
    c->args = (const char **)argv + i;
    c->nargs = argc - i;
    return 0;
}

/* Splits the arguments of run and status into targets and their options
 * (run --full-refresh, status --json); rebind takes one NAME; the other commands
 * take none. */
/* verify [SOURCE[.STREAM]...] [--from DATE] [--to DATE] [--deep] [--json]. */
static bool parse_verify_args(cli *c)
{
    int n = 0;
    for (int i = 0; i < c->nargs; i++) {
        const char *a = c->args[i], **day = NULL;
        if (strcmp(a, "--deep") == 0)
            c->verify.deep = true;
        else if (strcmp(a, "--json") == 0)
            c->json = c->verify.json = true;
        else if (strcmp(a, "--from") == 0 || strcmp(a, "--to") == 0)
            day = a[2] == 'f' ? &c->verify.from : &c->verify.to;
        else if (a[0] == '-') {
            fprintf(stderr, "flowetl: unknown option '%s' for verify\n", a);
            return false;
        } else
            c->args[n++] = a;
        if (day && (i + 1 >= c->nargs || reconcile_days(c->args[i + 1], c->args[i + 1]) != 1)) {
            fprintf(stderr, "flowetl: %s takes a date YYYY-MM-DD\n", a);
            return false;
        }
        if (day)
            *day = c->args[++i];
    }
    if (c->verify.from && c->verify.to && reconcile_days(c->verify.from, c->verify.to) < 1) {
        fprintf(stderr, "flowetl: --to is before --from\n");
        return false;
    }
    c->nargs = n;
    return true;
}

static bool parse_command_args(cli *c)
{
    if (strcmp(c->command, "verify") == 0)
        return parse_verify_args(c);
    bool run = strcmp(c->command, "run") == 0, status = strcmp(c->command, "status") == 0;
    char why[512];
    if (run || strcmp(c->command, "state") == 0) {
        bool ok = run ? run_args_parse(c->nargs, c->args, &c->run, why, sizeof why)
                      : state_args_parse(c->nargs, c->args, &c->state, why, sizeof why);
        /* An orchestrator sets the environment more easily; --shard wins. */
        const char *env = run ? getenv("FLOWETL_SHARD") : NULL;
        if (ok && env && *env && !c->run.shard_count)
            ok = run_shard_parse(env, "FLOWETL_SHARD", &c->run.shard_index, &c->run.shard_count,
                                 why, sizeof why);
        if (!ok)
            fprintf(stderr, "flowetl: %s\n", why);
        c->args = run ? c->run.targets : c->state.targets;
        c->nargs = run ? c->run.ntargets : c->state.ntargets;
        c->full_refresh = c->run.full_refresh;
        return ok;
    }
    if (strcmp(c->command, "rebind") == 0) {
        if (c->nargs == 1 && c->args[0][0] != '-')
            return true;
        fprintf(stderr, "flowetl: usage: flowetl rebind NAME (NAME of a [source.NAME])\n");
        return false;
    }
    if (!run && !status) {
        if (c->nargs > 0)
            fprintf(stderr, "flowetl: '%s' takes no arguments\n", c->command);
        return c->nargs == 0;
    }
    int n = 0;
    for (int i = 0; i < c->nargs; i++) {
        if (run && strcmp(c->args[i], "--full-refresh") == 0)
            c->full_refresh = true;
        else if (status && strcmp(c->args[i], "--json") == 0)
            c->json = true;
        else if (c->args[i][0] == '-') {
            fprintf(stderr, "flowetl: unknown option '%s' for %s\n", c->args[i], c->command);
            return false;
        } else
            c->args[n++] = c->args[i];
    }
    c->nargs = n;
    return true;
}

/* True when the command's targets name source `name` (no target = every source)
 * and, for run --shard, the source is of its shard. */
static bool selects_source(const cli *c, const char *name)
{
    size_t len = strlen(name);
    if (strcmp(c->command, "run") == 0 && c->run.shard_count &&
        run_shard_of(name, c->run.shard_count) != c->run.shard_index)
        return false; /* the runner refuses a target of another shard */
    if (c->nargs == 0)
        return true;
    for (int i = 0; i < c->nargs; i++)
        if (strncmp(c->args[i], name, len) == 0 &&
            (c->args[i][len] == '\0' || c->args[i][len] == '.'))
            return true;
    return false;
}

/* rebind reads only the keys its source's identity is derived from
 * (runner_source_account): those are all it expands. */
static fe_rc resolve_identity(config *cfg, const char *name, fe_err *err)
{
    const source_config *sc = config_source(cfg, name);
    const char *keys[8];
    size_t n = source_identity_keys(sc ? source_find(sc->type) : NULL, keys, 8);
    return config_resolve_source(cfg, name, keys, n, err);
}

/* Expands the config values the command uses (config_load did the warehouse's): init
 * nothing more, status the keys it reads of the sources it reports on, rebind the
 * identity keys of its source (which must exist), run and check everything of the
 * sources they talk to, which must exist. A target naming no source is left for
 * the command to report. */
static fe_rc resolve_config(const cli *c, config *cfg, fe_err *err)
{
    bool status = strcmp(c->command, "status") == 0;
    size_t nkeys = 0;
    const char *const *keys = status ? status_config_keys(&nkeys) : NULL;
    if (strcmp(c->command, "init") == 0)
        return FE_OK;
    if (strcmp(c->command, "rebind") == 0)
        return resolve_identity(cfg, c->args[0], err);
    if (strcmp(c->command, "state") == 0)
        return state_resolve_config(cfg, &c->state, err);
    if (!status)
        FE_TRY(config_require_sources(cfg, err));
    for (size_t i = 0; i < cfg->nsources; i++)
        if (selects_source(c, cfg->sources[i].name))
            FE_TRY(config_resolve_source(cfg, cfg->sources[i].name, keys, nkeys, err));
    return FE_OK;
}

static const char *resolve_config_path(const cli *c)
{
    if (c->config_path)
        return c->config_path;
    if (access("flowetl.conf", F_OK) == 0)
        return "flowetl.conf";
    const char *env = getenv("FLOWETL_CONFIG");
    return env && *env ? env : NULL;
}

static log_level level_from(const config *cfg, int verbosity)
{
    if (verbosity > 0)
        return LOG_DEBUG;
    if (verbosity < 0)
        return LOG_WARN;
    const char *name = config_run_str(cfg, "log_level");
    if (name && strcmp(name, "error") == 0)
        return LOG_ERROR;
    if (name && strcmp(name, "warn") == 0)
        return LOG_WARN;
    if (name && strcmp(name, "debug") == 0)
        return LOG_DEBUG;
    return LOG_INFO;
}

/* Starts logging with every secret of the config redacted: a config of hundreds
 * of sources has hundreds of them, so the list grows until it holds them all.
 * False when memory ran out. */
static bool init_log(const config *cfg, int verbosity)
{
    int cap = 64, n;
    const char **secrets = NULL;
    for (;;) {
        const char **more = realloc(secrets, (size_t)cap * sizeof *secrets);
        if (!more) {
            free(secrets);
            return false;
        }
        secrets = more;
        if ((n = config_secrets(cfg, secrets, cap)) < cap)
            break;
        cap *= 2;
    }
    log_init(level_from(cfg, verbosity), secrets, n);
    free(secrets);
    return true;
}

static int dispatch(const cli *c, const config *cfg, int argc, const char *const *typed)
{
    if (strcmp(c->command, "init") == 0)
        return command_init(cfg);
    if (strcmp(c->command, "status") == 0) {
        status_request req = {.targets = c->args, .ntargets = c->nargs, .json = c->json};
        return status_run(cfg, &req);
    }
    if (strcmp(c->command, "check") == 0)
        return command_check(cfg);
    if (strcmp(c->command, "rebind") == 0)
        return rebind_command(cfg, c->args[0]);
    if (strcmp(c->command, "state") == 0)
        return state_command(cfg, &c->state);
    if (strcmp(c->command, "verify") == 0) {
        verify_request req = c->verify;
        req.targets = c->args;
        req.ntargets = c->nargs;
        return verify_command(cfg, &req);
    }
    /* run */
    int64_t progress_us = 10 * 1000000LL;
    config_run_duration(cfg, "progress_interval", &progress_us);
    char *line = cmdline_text(argc, typed);
    run_request req = {
        .targets = c->args,
        .ntargets = c->nargs,
        .full_refresh = c->full_refresh,
        .refresh = c->run.refresh,
        .nrefresh = c->run.nrefresh,
        .window_from = c->run.from,
        .window_to = c->run.to,
        .command_line = line ? line : "",
        .progress_every_us = progress_us,
        .shard_index = c->run.shard_index,
        .shard_count = c->run.shard_count,
        .max_sources = c->run.max_sources,
    };
    int code = runner_run(cfg, &req);
    free(line);
    return code;
}

static bool known_command(const char *cmd)
{
    return strcmp(cmd, "init") == 0 || strcmp(cmd, "run") == 0 || strcmp(cmd, "status") == 0 ||
           strcmp(cmd, "check") == 0 || strcmp(cmd, "rebind") == 0 || strcmp(cmd, "state") == 0 ||
           strcmp(cmd, "verify") == 0;
}

/* Makes cfg->dsn the DSN every command connects with: the [warehouse]
 * connect_timeout and TCP keepalives added where the DSN sets none, so no
 * connection attempt waits unbounded. Done once, before anything connects. */
static bool apply_warehouse_defaults(config *cfg, fe_err *err)
{
    int64_t us = 10 * 1000000LL;
    config_warehouse_duration(cfg, "connect_timeout", &us);
    pg_dsn_defaults d = {
        .connect_timeout_s = (long)((us + 999999) / 1000000),
        .keepalives_idle_s = KEEPALIVE_IDLE_S,
        .keepalives_interval_s = KEEPALIVE_INTERVAL_S,
        .keepalives_count = KEEPALIVE_COUNT,
    };
    char *dsn = pg_dsn_with_defaults(cfg->dsn, &d, err);
    if (!dsn)
        return false;
    free(cfg->dsn);
    cfg->dsn = dsn;
    return true;
}

int main(int argc, char **argv)
{
    cli c = {0};
    config *cfg = NULL;
    fe_err err = {0};

    int early = parse_options(argc, argv, &c);
    if (early)
        return early - 1;
    if (strcmp(c.command, "help") == 0)
        return help_main(c.nargs, c.args);
    if (help_knows(c.command) && help_requested(c.nargs, (const char *const *)c.args))
        return help_command(stdout, c.command) ? 0 : 2;
    if (!known_command(c.command)) {
        fprintf(stderr, "flowetl: unknown command '%s' (see flowetl help)\n", c.command);
        return 2;
    }
    /* argv as typed, for etl.run.command_line: parse_command_args moves the
     * command's targets over its options in argv. Longer command lines are
     * recorded up to MAX_TYPED_ARGS arguments. */
    const char *typed[MAX_TYPED_ARGS];
    int ntyped = argc < MAX_TYPED_ARGS ? argc : MAX_TYPED_ARGS;
    memcpy(typed, argv, (size_t)ntyped * sizeof *typed);
    if (!parse_command_args(&c))
        return 2;
    const char *path = resolve_config_path(&c);
    if (!path) {
        fprintf(stderr, "flowetl: no config file: pass -c FILE, create ./flowetl.conf or set "
                        "FLOWETL_CONFIG\n");
        return 2;
    }
    if (config_load(path, source_schema(), &cfg, &err) != FE_OK ||
        resolve_config(&c, cfg, &err) != FE_OK || !apply_warehouse_defaults(cfg, &err)) {
        log_format f = LOG_FORMAT_TEXT;
        if (log_format_parse(c.log_format, &f) && f == LOG_FORMAT_JSON) {
            log_set_format(f); /* a collector reading JSON lines gets one */
            log_error(NULL, "%s", err.msg);
        } else
            fprintf(stderr, "flowetl: %s\n", err.msg);
        config_free(cfg);
        return 2;
    }
    if (!init_log(cfg, c.verbosity)) {
        fprintf(stderr, "flowetl: out of memory\n");
        config_free(cfg);
        return 1;
    }
    log_format format = LOG_FORMAT_TEXT;
    if (!log_format_parse(c.log_format, &format))
        (void)log_format_parse(config_run_str(cfg, "log_format"), &format);
    log_set_format(format);
    if (cfg->zone_db_missing)
        log_warn(NULL,
                 "no time zone database in %s (install tzdata): the warehouse server checks "
                 "time zones at run time",
                 cfg->zone_db_dir);
    if (!http_global_init()) {
        log_error(NULL, "libcurl could not be initialised");
        config_free(cfg);
        log_term();
        return 1;
    }
    int code = dispatch(&c, cfg, ntyped, typed);
    http_global_term();
    config_free(cfg);
    log_term();
    return code;
}
