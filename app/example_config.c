/* example_config: the generated example config (see example_config.h). */
#include "app/example_config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define MAX_KEYS 512
#define WRAP 78

typedef struct {
    const config_key *key;
    const char *type; /* source type owning the key, NULL = every type or not a source key */
    char *doc;        /* copied: config_schema_each's doc lives during its call only */
} entry;

typedef struct {
    entry e[MAX_KEYS];
    size_t n;
    bool oom;
} entries;

/* Example values of keys that have no default, where an empty value would not
 * load or would say nothing (a NULL type: any type). Secrets are ${TYPE_KEY}. */
static const struct {
    const char *type, *key, *value;
} examples[] = {
    {NULL, "ca_file", "/etc/ssl/certs/ca-certificates.crt"},
    {NULL, "error_after", "2d"},
    {NULL, "start_date", "2024-01-01"},
    {NULL, "warn_after", "26h"},
    {"flowretail", "tenant", "your-tenant-uid"},
    {"flowwow", "end_date", "2024-12-31"},
    {"goflow", "beta_contact", "ops@example.com"},
    {"goflow", "subdomain", "yourshop"},
    {"posiflora", "base_url", "https://yourshop.posiflora.com/api"},
    {"posiflora", "username", "api-user"},
};

/* Keys written as set (not commented out) in a type's section besides the required
 * ones: Goflow needs subdomain or base_url. */
static bool set_anyway(const char *type, const char *key)
{
    return strcmp(type, "goflow") == 0 && strcmp(key, "subdomain") == 0;
}

static void collect(const config_key_info *info, void *ctx)
{
    entries *es = ctx;
    if (es->n == MAX_KEYS) {
        es->oom = true;
        return;
    }
    char *doc = strdup(info->doc ? info->doc : "");
    if (!doc) {
        es->oom = true;
        return;
    }
    es->e[es->n++] = (entry){info->key, info->source_type, doc};
}

/* "# " + text, wrapped at WRAP columns. */
static void comment_wrapped(FILE *out, const char *text)
{
    const char *p = text;
    while (*p) {
        int col = fprintf(out, "#");
        while (*p) {
            while (*p == ' ')
                p++;
            size_t len = strcspn(p, " ");
            if (!len || (col > 1 && col + 1 + (int)len > WRAP))
                break;
            col += fprintf(out, " %.*s", (int)len, p);
            p += len;
        }
        fputc('\n', out);
    }
}

static const char *example_value(const char *type, const char *key)
{
    for (size_t i = 0; i < sizeof examples / sizeof examples[0]; i++)
        if (strcmp(examples[i].key, key) == 0 &&
            (!examples[i].type || (type && strcmp(examples[i].type, type) == 0)))
            return examples[i].value;
    return NULL;
}

/* One key: its doc, a line of type and default, its value line. type is the
 * section's source type (NULL outside [source.NAME]). */
static void print_key(FILE *out, const entry *e, const char *type)
{
    const config_key *k = e->key;
    char secret[128] = "";
    fputc('\n', out);
    comment_wrapped(out, e->doc);
    fprintf(out, "# (%s", config_type_name(k->type));
    if (k->choices)
        fprintf(out, ": %s", k->choices);
    if (k->def)
        fprintf(out, ", default %s", *k->def ? k->def : "empty");
    else
        fputs(", no default", out);
    fprintf(out, "%s)\n", k->required ? ", required" : "");

    const char *value = k->def;
    if (!value)
        value = example_value(type, k->key);
    if (!value && k->type == CK_SECRET && type) {
        int w = snprintf(secret, sizeof secret, "${%s_%s}", type, k->key);
        for (int i = 2; i < w && i < (int)sizeof secret; i++)
            secret[i] = (char)toupper((unsigned char)secret[i]);
        value = secret;
    }
    bool set = k->required || (type && set_anyway(type, k->key));
    fprintf(out, "%s%s =%s%s\n", set ? "" : ";", k->key, value && *value ? " " : "",
            value ? value : "");
}

static void print_section(FILE *out, const entries *es, const char *section)
{
    fprintf(out, "\n[%s]\n", section);
    for (size_t i = 0; i < es->n; i++)
        if (strcmp(es->e[i].key->section, section) == 0)
            print_key(out, &es->e[i], NULL);
}

/* True when the type has its own entry for key (it overrides the common one). */
static bool overridden(const entries *es, const char *type, const char *key)
{
    for (size_t i = 0; i < es->n; i++)
        if (es->e[i].type && strcmp(es->e[i].type, type) == 0 &&
            strcmp(es->e[i].key->key, key) == 0)
            return true;
    return false;
}

/* [source.TYPE_main] with `type`, the keys of every type when common is set (the
 * first section), then the type's own keys. */
static void print_source_section(FILE *out, const entries *es, const char *type, bool common)
{
    fprintf(out, "\n[source.%s_main]\ntype = %s\n", type, type);
    if (common) {
        fputs("\n# --- Keys of every source type: any [source.NAME] section may set them.\n", out);
        for (size_t i = 0; i < es->n; i++) {
            const entry *e = &es->e[i];
            if (!e->type && strcmp(e->key->section, "source") == 0 &&
                strcmp(e->key->key, "type") != 0 && !overridden(es, type, e->key->key))
                print_key(out, e, type);
        }
    }
    fprintf(out, "\n# --- Keys of type %s.\n", type);
    for (size_t i = 0; i < es->n; i++)
        if (es->e[i].type && strcmp(es->e[i].type, type) == 0)
            print_key(out, &es->e[i], type);
}

static void print_header(FILE *out, const entries *es)
{
    fputs("# flowetl.conf: an example with every section and key, generated by\n"
          "# `flowetl --help-config=ini` from the key table flowetl checks files with.\n"
          "#\n"
          "# Syntax: [section] lines, key = value lines, whole-line comments starting\n"
          "# with # or ;. A line ';key = value' is a key left at its default (or an\n"
          "# example value): remove the ';' to set it. Any value may contain ${NAME},\n"
          "# replaced by the environment variable NAME: keep passwords and tokens out of\n"
          "# this file (e.g. in /etc/flowetl/env, the systemd unit's EnvironmentFile).\n"
          "# Unknown sections or keys are errors. `flowetl check` tries a config.\n",
          out);
    for (size_t i = 0; i < es->n; i++)
        if (!es->e[i].type && strcmp(es->e[i].key->key, "type") == 0) {
            fputs("#\n# One [source.NAME] section per account; NAME is yours. `type`:\n", out);
            comment_wrapped(out, es->e[i].doc);
        }
}

bool example_config_print(FILE *out, const config_schema *schema)
{
    entries *es = calloc(1, sizeof *es);
    if (!es)
        return false;
    config_schema_each(schema, collect, es);
    bool ok = !es->oom;
    if (ok) {
        print_header(out, es);
        print_section(out, es, "run");
        print_section(out, es, "warehouse");
        for (size_t t = 0; t < schema->ntypes; t++)
            print_source_section(out, es, schema->types[t]->name, t == 0);
    }
    for (size_t i = 0; i < es->n; i++)
        free(es->e[i].doc);
    free(es);
    return ok;
}
