/* help: the help texts (see help.h). One table, printed two ways: wrapped plain text
 * for the terminal and roff for the man page. */
#include "app/help.h"

#include <string.h>

#define HELP_WIDTH 80
#define TERM_COLUMN 28 /* where an option's text starts when its name fits before it */

typedef struct {
    const char *term; /* an option, exit code or example command line */
    const char *text; /* one paragraph */
} help_item;

typedef struct {
    const char *name;
    const char *summary;   /* one line for the overview */
    const char *usage[6];  /* what follows "flowetl " on each usage line */
    const char *about[4];  /* paragraphs */
    help_item options[10]; /* the command's own options */
    help_item exits[8];    /* its exit codes */
    help_item examples[5]; /* a command line and what it does (the last one empty) */
} help_cmd;

static const char *const global_usage =
    "flowetl [-c FILE] [-v|-q] [--log-format=text|json] COMMAND [ARGS]";

static const char *const about_flowetl[] = {
    "Exports orders, payments, customers, products and stock from retail APIs (Posiflora, "
    "Goflow, Flowwow, Flow Retail) into a PostgreSQL star schema, incrementally and exactly "
    "once.",
    "Progress and errors go to stderr; summaries and reports go to stdout. `flowetl help "
    "COMMAND` or `flowetl COMMAND --help` shows the help of one command.",
    NULL,
};

static const help_item global_options[] = {
    {"-c, --config FILE", "The config file. Default: ./flowetl.conf, else $FLOWETL_CONFIG."},
    {"-v, --verbose",
     "Debug logging (overrides [run] log_level), with one line per HTTP request: method, URL "
     "with secrets removed, status, bytes and milliseconds."},
    {"-q, --quiet", "Warnings and errors only."},
    {"--log-format=text|json",
     "text: one readable line per event, with the run id. json: one JSON object per line with "
     "time, level, run_id, source, stream, event and fields. Overrides [run] log_format."},
    {"--help-config[=markdown|ini]",
     "Every config key with its type, default and meaning. markdown: as README.md's table; "
     "ini: a commented example config with every section and key."},
    {"-h, --help", "The overview (this help); after a command, that command's help."},
    {"--version", "The version and the commit it was built from: flowetl X.Y.Z (commit "
                  "abcdef1), (commit unknown) when built outside a git checkout."},
    {NULL, NULL},
};

/* The exit codes of run, which most commands share in part. */
static const help_item run_exits[] = {
    {"0", "Every stream succeeded."},
    {"1", "Some stream failed (the others were loaded); one line per failure on stderr."},
    {"2", "Usage or configuration error, or a source whose account changed (source identity): "
          "nothing was run."},
    {"3", "The warehouse could not be reached, or went away during the run."},
    {"4", "Nothing failed, but a source was skipped because another flowetl run was loading it "
          "(a scheduler overlap)."},
    {"5", "The loads were committed, but a verification of a source with verify = fail found "
          "differences beyond verify_tolerance."},
    {"143, 130", "Stopped by SIGTERM, SIGINT: open checkpoints rolled back."},
    {NULL, NULL},
};

static const char *const exit_precedence =
    "When several apply, the first in this order wins: 143/130, 3, 1, 5, 4, 0 (2 ends the "
    "command before anything runs).";

static const help_cmd commands[] = {
    {
        .name = "help",
        .summary = "help for every command, or for one",
        .usage = {"help [COMMAND]", "COMMAND --help"},
        .about = {"Without COMMAND: the overview of commands, global options and exit codes. "
                  "With COMMAND: its usage, what it does, its options, exit codes and examples "
                  "(the same text as `flowetl COMMAND --help`). Needs no config file."},
        .exits = {{"0", "Help printed."},
                  {"2", "COMMAND is not a flowetl command (the commands are listed)."}},
        .examples = {{"flowetl help run", "How to run a load, with every option of run."}},
    },
    {
        .name = "init",
        .summary = "create or upgrade the warehouse schema (idempotent)",
        .usage = {"init"},
        .about = {"Applies the migrations compiled into the binary (sql/NNN_name.sql) that the "
                  "warehouse has not seen yet, in name order, each in its own transaction. "
                  "Safe to run again: an up-to-date warehouse is left as it is. Needs only "
                  "[warehouse] from the config, no API secret. On a Citus coordinator "
                  "([warehouse] layout = auto with the citus extension installed, or "
                  "layout = citus) it then distributes the per-source tables by source_key "
                  "(sql/citus/), converting a warehouse that was single-node until then; "
                  "the last line names the layout."},
        .exits = {{"0", "The schema is up to date."},
                  {"1", "A migration failed (rolled back), or the layout asked for cannot be "
                        "made (layout = citus without the extension, layout = single on a "
                        "distributed warehouse)."},
                  {"2", "Usage or configuration error."},
                  {"3", "The warehouse could not be reached."}},
        .examples = {{"flowetl -c /etc/flowetl/flowetl.conf init",
                      "Create the schema of a new warehouse, or upgrade it after an update "
                      "of flowetl."}},
    },
    {
        .name = "run",
        .summary = "load every configured stream, or only those named",
        .usage = {"run [SOURCE[.STREAM]...] [--full-refresh[=SOURCE[.STREAM][,...]]]",
                  "run [SOURCE[.STREAM]...] [--from DATE [--to DATE]]",
                  "run [...] [--shard I/N] [--max-sources N]"},
        .about = {"Loads every stream of every configured source, or only the sources and "
                  "streams named (SOURCE is the NAME of a [source.NAME] section). Sources run "
                  "concurrently on a pool of [run] max_sources workers (8), which take them "
                  "in config order; each stream reads incrementally from its "
                  "stored cursor and commits in checkpoints, so an interrupted run loses "
                  "nothing committed and the next run goes on from there.",
                  "Each run and stream has its row in etl.run and etl.run_stream, with the "
                  "command line as typed (secrets removed), counts and any error.",
                  "While it runs: on a terminal, a live line per running stream with records, "
                  "rate and ETA where the API reports a total ([run] progress); otherwise a "
                  "progress line every progress_interval. At its end: a summary on stdout per "
                  "stream (what it read in the stream's unit, rows written per table), and, "
                  "with [run] metrics_file, the run's metrics in the Prometheus text format, "
                  "written atomically for node_exporter's textfile collector.",
                  "Each stream of a source with verify = warn or fail is then compared with "
                  "the source's own totals (see flowetl help verify)."},
        .options = {{"--full-refresh",
                     "Every selected stream ignores its stored cursor and reads everything "
                     "again (the merge still writes only what changed)."},
                    {"--full-refresh=SOURCE[.STREAM][,...]",
                     "Only those streams (a SOURCE alone: all its streams) are read in full; "
                     "repeatable, comma lists allowed. The request is persistent: stored in "
                     "etl.sync_state and kept until a full read of that stream commits, so a "
                     "failed run retries it next time."},
                    {"--from DATE",
                     "Read a window (YYYY-MM-DD) of the date-windowed streams again, to "
                     "backfill or replay it. A stored cursor never moves backwards. Streams "
                     "without a date window are skipped with one log line saying so."},
                    {"--to DATE",
                     "The window's last day, inclusive (default: today in the source's time "
                     "zone). Only with --from."},
                    {"--shard I/N",
                     "Run only the sources whose NAME hashes to shard I of N (0 <= I < N; "
                     "FNV-1a of the name, mod N: a source stays in its shard when others are "
                     "added or removed), so N processes (an Airflow task mapping, a Kubernetes "
                     "Indexed Job) split one config. The environment variable "
                     "FLOWETL_SHARD=I/N does the same; the option wins. A target of another "
                     "shard is a usage error; a shard with no source succeeds doing nothing."},
                    {"--max-sources N",
                     "Load at most N sources at once (1 to 256), instead of [run] "
                     "max_sources."}},
        /* exits: run_exits, shared with the overview */
        .examples = {{"flowetl run", "Load everything that changed since the last run."},
                     {"flowetl run --full-refresh=posiflora_main.orders",
                      "Load everything, reading every order of source posiflora_main again."},
                     {"flowetl run flowwow_main --from 2024-03-01 --to 2024-03-31",
                      "Replay March 2024 for the date-windowed streams of flowwow_main."},
                     {"flowetl run --shard 2/4",
                      "Load the third quarter of the config's sources (one of four processes)."}},
    },
    {
        .name = "status",
        .summary = "last outcome, error, cursor and freshness per stream",
        .usage = {"status [SOURCE[.STREAM]...] [--json]"},
        .about = {"For each selected stream (default: every configured stream): the latest "
                  "run's outcome and error, the last success, the age of the data, the cursor, "
                  "the last verification, and a freshness verdict from the source's "
                  "warn_after and error_after; then the last runs. Needs only the warehouse: "
                  "no API secret. Made for monitoring: the exit code says whether all is well."},
        .options = {{"--json", "stdout holds one JSON document instead of the text report."}},
        .exits = {{"0", "Every selected stream's latest run succeeded (a skipped or still "
                        "running run counts as the run before it) and none is older than "
                        "error_after; one older than warn_after is a WARN line on stderr."},
                  {"1", "A latest run failed, was interrupted or abandoned, a stream never "
                        "succeeded, or its last success is older than error_after."},
                  {"2", "Usage or configuration error (unknown source or stream, schema not "
                        "initialised: run flowetl init)."},
                  {"3", "The warehouse could not be reached."}},
        .examples = {{"flowetl status", "The state of every stream, for a person."},
                     {"flowetl status posiflora_main --json", "One source, for a program."}},
    },
    {
        .name = "state",
        .summary = "list, show, set or reset the stored cursors (etl.sync_state)",
        .usage = {"state list [SOURCE[.STREAM]...] [--json]", "state show SOURCE.STREAM [--json]",
                  "state set SOURCE.STREAM CURSOR_JSON --yes", "state reset SOURCE[.STREAM] --yes"},
        .about = {"The cursor of each stream is where its next incremental read starts. list "
                  "prints the stored state of the selected streams (default: all), show one "
                  "stream's in full, with a pending full-refresh request and who made it. set "
                  "replaces a stream's cursor with CURSOR_JSON (a JSON value of the shape show "
                  "prints). reset stores a full-refresh request for the stream (every stream "
                  "of SOURCE): the next run reads it in full, and the request stays until a "
                  "full read of it commits, so a failed run retries it. set and reset change "
                  "what the next run reads, so they need --yes."},
        .options = {{"--json", "list, show: one JSON document on stdout instead of text."},
                    {"--yes", "set, reset: confirm the change (without it nothing is changed "
                              "and the message says what would be)."}},
        .exits = {{"0", "Done."},
                  {"1", "It could not be done (a source that never loaded has no cursor to "
                        "set)."},
                  {"2", "Usage or configuration error: unknown source or stream, CURSOR_JSON "
                        "not valid, --yes missing (nothing changed)."},
                  {"3", "The warehouse could not be reached."},
                  {"4", "Another flowetl run holds the source (nothing changed)."}},
        .examples = {{"flowetl state show posiflora_main.orders", "Where the next read starts."},
                     {"flowetl state reset goflow_main.orders --yes",
                      "Read Goflow's orders in full on the next run."}},
    },
    {
        .name = "check",
        .summary = "config, credentials and connectivity per source",
        .usage = {"check"},
        .about = {"Reads the config, connects to the warehouse and asks each source's API one "
                  "question with its credentials, reporting per source. A probe: each request "
                  "gets one retry and at most 10 seconds for its attempts and waits (instead of "
                  "retries and retry_total), so an API that is down is reported in seconds. "
                  "Loads nothing."},
        .exits = {{"0", "Every source answered."},
                  {"1", "Some source failed its check (one line each)."},
                  {"2", "Configuration error, or a source whose identity run would refuse."},
                  {"3", "The warehouse could not be reached."}},
        .examples = {{"flowetl -c flowetl.conf check", "Try a new config before the first run."}},
    },
    {
        .name = "rebind",
        .summary = "bind source NAME to the account its config now gives",
        .usage = {"rebind NAME"},
        .about = {"A run refuses a source whose account (dim_source.account, derived from "
                  "base_url, subdomain or tenant, or set by the account key) differs from the "
                  "one NAME was bound to. rebind moves NAME off the rows of the old account, so "
                  "the next run binds it to the new one; the old account's rows keep their "
                  "key. Needs only the warehouse, never calls the API."},
        .exits = {{"0", "Done, or nothing to do."},
                  {"1", "Refused (a run holds the old account's lock) or failed."},
                  {"2", "No [source.NAME] in the config, or the schema is out of date."},
                  {"3", "The warehouse could not be reached."}},
        .examples = {{"flowetl rebind posiflora_main",
                      "After moving posiflora_main to a new account on purpose."}},
    },
    {
        .name = "verify",
        .summary = "compare the warehouse with what the sources say (counts, money)",
        .usage = {"verify [SOURCE[.STREAM]...] [--from DATE [--to DATE]] [--deep] [--json]"},
        .about = {"Compares what the warehouse holds with what each selected source says, at "
                  "the finest grain its API offers: counts per list and window, per store and "
                  "day where the API allows, and money where it publishes it. Where counts "
                  "differ it narrows down to the window that differs and names the missing "
                  "records by id. Each comparison is a row in etl.reconcile.",
                  "A run also verifies each stream it loaded, by the source's verify key: off, "
                  "warn (a warning line) or fail (the run exits 5); verify_tolerance is the "
                  "difference allowed (records or money units). flowetl status shows the last "
                  "verification of each stream."},
        .options = {{"--from DATE",
                     "First day (YYYY-MM-DD) compared. Without --from and --to: from the "
                     "first day the warehouse holds up to today."},
                    {"--to DATE", "Last day compared, inclusive (default: today)."},
                    {"--deep", "Also re-read the window's records through the stream's own "
                               "reader and mapper (default window: the last 7 days) and "
                               "compare each mapped order with its warehouse row by a "
                               "canonical text of its values: reports missing, extra and "
                               "different rows by id (catches a mapping regression or an "
                               "amount edited by hand). Posiflora, Flowwow and Goflow orders."},
                    {"--json", "stdout holds one JSON document instead of the text report."}},
        .exits = {{"0", "No differences (within verify_tolerance)."},
                  {"5", "Differences beyond verify_tolerance (listed on stdout, with ids)."},
                  {"1", "A source could not be read (this wins over 5)."},
                  {"2", "Usage or configuration error."},
                  {"3", "The warehouse could not be reached."}},
        .examples = {{"flowetl verify", "Every stream of every source."},
                     {"flowetl verify posiflora_main --from 2024-03-01 --to 2024-03-31 --deep",
                      "March 2024 of one source, row by row."}},
    },
};

static const size_t ncommands = sizeof commands / sizeof commands[0];

static const help_cmd *find_command(const char *name)
{
    for (size_t i = 0; name && i < ncommands; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

/* ------------------------------------------------------------ plain text */

/* Prints text from column col (the cursor is there), wrapped at HELP_WIDTH with
 * continuation lines indented to indent; ends the line. */
static void print_wrapped(FILE *out, const char *text, int col, int indent)
{
    const char *p = text;
    bool first = true;
    while (*p) {
        while (*p == ' ')
            p++;
        size_t len = strcspn(p, " ");
        if (!len)
            break;
        if (!first && col + 1 + (int)len > HELP_WIDTH) {
            fprintf(out, "\n%*s", indent, "");
            col = indent;
            first = true;
        }
        if (!first)
            col += fprintf(out, " ");
        col += fprintf(out, "%.*s", (int)len, p);
        first = false;
        p += len;
    }
    fputc('\n', out);
}

static void print_paragraphs(FILE *out, const char *const *paragraphs, int indent)
{
    for (size_t i = 0; paragraphs[i]; i++) {
        fprintf(out, "%s%*s", i ? "\n" : "", indent, "");
        print_wrapped(out, paragraphs[i], indent, indent);
    }
}

/* A list of terms and their texts, the text beside the term when it fits. */
static void print_items(FILE *out, const char *title, const help_item *items, int term_column)
{
    if (!items[0].term)
        return;
    fprintf(out, "\n%s:\n", title);
    for (size_t i = 0; items[i].term; i++) {
        int col = fprintf(out, "  %s", items[i].term);
        if (col + 2 <= term_column)
            col += fprintf(out, "%*s", term_column - col, "");
        else {
            fprintf(out, "\n%*s", term_column, "");
            col = term_column;
        }
        print_wrapped(out, items[i].text, col, term_column);
    }
}

static void print_exit_codes(FILE *out)
{
    print_items(out, "Exit codes of run", run_exits, 12);
    fputs("  ", out);
    print_wrapped(out, exit_precedence, 2, 2);
    fputs("  The other commands' exit codes: flowetl help COMMAND.\n", out);
}

void help_overview(FILE *out)
{
    fprintf(out, "Usage: %s\n       flowetl help [COMMAND]\n\n", global_usage);
    print_paragraphs(out, about_flowetl, 0);
    fputs("\nCommands:\n", out);
    for (size_t i = 0; i < ncommands; i++) {
        int col = fprintf(out, "  %-9s", commands[i].name);
        print_wrapped(out, commands[i].summary, col, 11);
    }
    print_items(out, "Global options", global_options, TERM_COLUMN);
    print_exit_codes(out);
}

bool help_command(FILE *out, const char *command)
{
    const help_cmd *c = find_command(command);
    if (!c)
        return false;
    for (size_t i = 0; i < 6 && c->usage[i]; i++)
        fprintf(out, "%s flowetl [GLOBAL OPTIONS] %s\n", i ? "      " : "Usage:", c->usage[i]);
    fprintf(out, "\nflowetl %s: %s.\n\n", c->name, c->summary);
    print_paragraphs(out, c->about, 2);
    print_items(out, "Options", c->options, TERM_COLUMN);
    if (strcmp(c->name, "run") == 0) {
        print_items(out, "Exit codes", run_exits, 12);
        fputs("  ", out);
        print_wrapped(out, exit_precedence, 2, 2);
    } else
        print_items(out, "Exit codes", c->exits, 12);
    if (c->examples[0].term) {
        fputs("\nExamples:\n", out);
        for (size_t i = 0; c->examples[i].term; i++) {
            fprintf(out, "  %s\n      ", c->examples[i].term);
            print_wrapped(out, c->examples[i].text, 6, 6);
        }
    }
    fputs("\nGlobal options (before COMMAND): see flowetl help.\n", out);
    return true;
}

bool help_knows(const char *name)
{
    return find_command(name) != NULL;
}

void help_command_list(char *dst, size_t n)
{
    size_t len = 0;
    dst[0] = '\0';
    for (size_t i = 0; i < ncommands && len < n; i++) {
        int w = snprintf(dst + len, n - len, "%s%s", i ? ", " : "", commands[i].name);
        if (w < 0)
            return;
        len += (size_t)w;
    }
}

bool help_requested(int nargs, const char *const *args)
{
    for (int i = 0; i < nargs; i++)
        if (strcmp(args[i], "-h") == 0 || strcmp(args[i], "--help") == 0)
            return true;
    return false;
}

int help_main(int nargs, const char *const *args)
{
    char names[256];
    if (nargs == 0) {
        help_overview(stdout);
        return 0;
    }
    if (help_requested(nargs, args)) /* flowetl help --help */
        return help_command(stdout, "help"), 0;
    if (nargs == 1 && help_command(stdout, args[0]))
        return 0;
    help_command_list(names, sizeof names);
    if (nargs == 1)
        fprintf(stderr, "flowetl: no command '%s'; the commands are: %s\n", args[0], names);
    else
        fprintf(stderr, "flowetl: usage: flowetl help [COMMAND] (COMMAND one of %s)\n", names);
    return 2;
}

/* ------------------------------------------------------------ roff */

/* Writes text escaped for roff: backslashes, hyphens (as \-, so they print as the
 * minus a shell expects) and a leading dot or quote that would start a request. */
static void roff_text(FILE *out, const char *text)
{
    if (*text == '.' || *text == '\'')
        fputs("\\&", out);
    for (const char *p = text; *p; p++) {
        if (*p == '\\')
            fputs("\\e", out);
        else if (*p == '-')
            fputs("\\-", out);
        else
            fputc(*p, out);
    }
}

static void roff_line(FILE *out, const char *request, const char *text)
{
    fprintf(out, "%s", request);
    roff_text(out, text);
    fputc('\n', out);
}

static void roff_paragraphs(FILE *out, const char *const *paragraphs)
{
    for (size_t i = 0; paragraphs[i]; i++) {
        fputs(".PP\n", out);
        roff_line(out, "", paragraphs[i]);
    }
}

static void roff_items(FILE *out, const help_item *items)
{
    for (size_t i = 0; items[i].term; i++) {
        fputs(".TP\n", out);
        fputs("\\fB", out);
        roff_text(out, items[i].term);
        fputs("\\fR\n", out);
        roff_line(out, "", items[i].text);
    }
}

static void roff_command(FILE *out, const help_cmd *c)
{
    fputs(".SS \"", out);
    roff_text(out, c->name);
    fputs("\"\n.nf\n", out);
    for (size_t i = 0; i < 6 && c->usage[i]; i++)
        roff_line(out, "\\fBflowetl\\fR ", c->usage[i]);
    fputs(".fi\n", out);
    roff_paragraphs(out, c->about);
    if (c->options[0].term) {
        fputs(".PP\nOptions:\n.RS\n", out);
        roff_items(out, c->options);
        fputs(".RE\n", out);
    }
    fputs(".PP\nExit status:\n.RS\n", out);
    roff_items(out, strcmp(c->name, "run") == 0 ? run_exits : c->exits);
    fputs(".RE\n", out);
    if (c->examples[0].term) {
        fputs(".PP\nExamples:\n.RS\n", out);
        roff_items(out, c->examples);
        fputs(".RE\n", out);
    }
}

void help_man_page(FILE *out)
{
    fputs(".\\\" Generated by `flowetl --help-man` from app/help.c: edit that, not this.\n", out);
    fprintf(out, ".TH FLOWETL 1 \"\" \"flowetl %s\" \"User Commands\"\n", FLOWETL_VERSION);
    fputs(".SH NAME\nflowetl \\- export retail APIs into a PostgreSQL star schema\n", out);
    fputs(".SH SYNOPSIS\n.nf\n", out);
    roff_line(out, "", global_usage);
    roff_line(out, "", "flowetl help [COMMAND]");
    roff_line(out, "", "flowetl --version");
    fputs(".fi\n.SH DESCRIPTION\n", out);
    roff_paragraphs(out, about_flowetl);
    fputs(".SH OPTIONS\nGlobal options come before COMMAND.\n", out);
    roff_items(out, global_options);
    fputs(".SH COMMANDS\n", out);
    for (size_t i = 0; i < ncommands; i++)
        roff_command(out, &commands[i]);
    fputs(".SH EXIT STATUS\nOf run:\n", out);
    roff_items(out, run_exits);
    fputs(".PP\n", out);
    roff_line(out, "", exit_precedence);
    fputs(".PP\nThe other commands list theirs under COMMANDS.\n", out);
    fputs(".SH ENVIRONMENT\n.TP\n.B FLOWETL_CONFIG\nThe config file when there is no -c and no "
          "\\&./flowetl.conf.\n.TP\n.B FLOWETL_SHARD\nI/N: run loads only the sources of "
          "shard I of N, like run \\-\\-shard (which wins).\n.TP\n\\fINAME\\fR\nAny config value "
          "may contain ${NAME}, "
          "replaced by the environment variable: keep passwords and tokens out of the file.\n",
          out);
    fputs(".SH FILES\n.TP\n.I ./flowetl.conf\nThe default config file.\n.TP\n"
          ".I share/doc/flowetl/flowetl.conf.example\nEvery section and key with its default "
          "and meaning (under the install prefix; also `flowetl \\-\\-help\\-config=ini`).\n",
          out);
    fputs(".SH SEE ALSO\n.BR psql (1),\n.BR systemd.timer (5);\nREADME.md under "
          "share/doc/flowetl.\n",
          out);
}
