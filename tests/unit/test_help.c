/* help: every command has its help with the sections the contract asks for, the
 * overview lists every command, help_main's exit codes, and the man page carries
 * every command of the table. */
#include <CUnit/Basic.h>
#include <stdlib.h>
#include <string.h>

#include "app/help.h"

/* The commands of the command line (CONTRACT.md of issue 12/13). */
static const char *const commands[] = {"help",  "init",  "run",    "status",
                                       "state", "check", "rebind", "verify"};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

/* What fn printed, in a malloc'd string (through a temporary file: GCC 12 takes an
 * open_memstream buffer for a pointer to a local and warns at -O2). */
static char *capture(void (*fn)(FILE *))
{
    FILE *f = tmpfile();
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fn(f);
    long len = ftell(f);
    char *text = malloc((size_t)len + 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    rewind(f);
    CU_ASSERT_EQUAL(fread(text, 1, (size_t)len, f), (size_t)len);
    text[len] = '\0';
    fclose(f);
    return text;
}

static const char *current;
static void print_current(FILE *f)
{
    CU_ASSERT_TRUE(help_command(f, current));
}

static void test_every_command_has_full_help(void)
{
    for (size_t i = 0; i < NCOMMANDS; i++) {
        current = commands[i];
        CU_ASSERT_TRUE(help_knows(commands[i]));
        char *text = capture(print_current);
        char usage[64];
        snprintf(usage, sizeof usage, "flowetl [GLOBAL OPTIONS] %s", commands[i]);
        CU_ASSERT_PTR_NOT_NULL(strstr(text, usage));
        CU_ASSERT_PTR_NOT_NULL(strstr(text, "\nExit codes:\n"));
        CU_ASSERT_PTR_NOT_NULL(strstr(text, "\nExamples:\n"));
        /* Wrapped to 80 columns, except the usage lines (long synopses). */
        for (char *line = strstr(text, "\n\n"); line && *line; line = strchr(line + 1, '\n')) {
            size_t n = strcspn(line + 1, "\n");
            CU_ASSERT(n <= 80);
        }
        free(text);
    }
}

static void test_options_of_the_contract_are_documented(void)
{
    static const struct {
        const char *command, *text;
    } wanted[] = {
        {"run", "--full-refresh=SOURCE[.STREAM]"},
        {"run", "--from DATE"},
        {"run", "--to DATE"},
        {"run", "  5  "},
        {"status", "--json"},
        {"state", "state reset SOURCE[.STREAM] --yes"},
        {"state", "CURSOR_JSON --yes"},
        {"verify", "--deep"},
        {"verify", "  5  "},
    };
    for (size_t i = 0; i < sizeof wanted / sizeof wanted[0]; i++) {
        current = wanted[i].command;
        char *text = capture(print_current);
        if (!strstr(text, wanted[i].text))
            fprintf(stderr, "\n%s help lacks '%s'\n", wanted[i].command, wanted[i].text);
        CU_ASSERT_PTR_NOT_NULL(strstr(text, wanted[i].text));
        free(text);
    }
}

static void print_overview(FILE *f)
{
    help_overview(f);
}

static void test_overview_lists_every_command_and_option(void)
{
    char *text = capture(print_overview);
    for (size_t i = 0; i < NCOMMANDS; i++) {
        char line[32];
        snprintf(line, sizeof line, "\n  %s ", commands[i]);
        CU_ASSERT_PTR_NOT_NULL(strstr(text, line));
    }
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "--log-format=text|json"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "--version"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "143/130, 3, 1, 5, 4"));
    free(text);
}

static void test_unknown_commands(void)
{
    const char *nosuch[] = {"nosuch"};
    const char *two[] = {"run", "status"};
    const char *run[] = {"run"};
    CU_ASSERT_FALSE(help_knows("nosuch"));
    CU_ASSERT_FALSE(help_command(stdout, "nosuch"));
    CU_ASSERT_EQUAL(help_main(1, nosuch), 2);
    CU_ASSERT_EQUAL(help_main(2, two), 2);
    CU_ASSERT_EQUAL(help_main(1, run), 0);
    char list[256];
    help_command_list(list, sizeof list);
    CU_ASSERT_STRING_EQUAL(list, "help, init, run, status, state, check, rebind, verify");
}

static void test_help_requested(void)
{
    const char *a[] = {"posiflora_main", "-h"};
    const char *b[] = {"posiflora_main", "--help"};
    const char *c[] = {"posiflora_main", "--helpful", "-hh"};
    CU_ASSERT_TRUE(help_requested(2, a));
    CU_ASSERT_TRUE(help_requested(2, b));
    CU_ASSERT_FALSE(help_requested(3, c));
    CU_ASSERT_FALSE(help_requested(0, NULL));
}

static void print_man(FILE *f)
{
    help_man_page(f);
}

static void test_man_page_has_every_command(void)
{
    char *text = capture(print_man);
    CU_ASSERT_EQUAL(strncmp(text, ".\\\"", 3), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\n.TH FLOWETL 1 "));
    for (size_t i = 0; i < NCOMMANDS; i++) {
        char heading[32];
        snprintf(heading, sizeof heading, "\n.SS \"%s\"\n", commands[i]);
        CU_ASSERT_PTR_NOT_NULL(strstr(text, heading));
    }
    /* Hyphens are roff minus signs, so a copied option works in a shell. */
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\\-\\-full\\-refresh"));
    CU_ASSERT_PTR_NULL(strstr(strchr(text, '\n'), " --")); /* after the comment line */
    free(text);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    CU_pSuite s = CU_add_suite("help", NULL, NULL);
    CU_add_test(s, "every command has full help", test_every_command_has_full_help);
    CU_add_test(s, "the contract's options", test_options_of_the_contract_are_documented);
    CU_add_test(s, "overview lists everything", test_overview_lists_every_command_and_option);
    CU_add_test(s, "unknown commands", test_unknown_commands);
    CU_add_test(s, "help requested", test_help_requested);
    CU_add_test(s, "man page has every command", test_man_page_has_every_command);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failures = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failures != 0;
}
