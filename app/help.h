/* help: every help text of the command line, in one table: the overview (`flowetl
 * help`, `flowetl --help`), each command's help (`flowetl help COMMAND`, `flowetl
 * COMMAND --help`) and the flowetl(1) man page, which the build generates from the
 * same table (`flowetl --help-man`), so help and man page cannot drift apart.
 *
 * The texts are plain paragraphs; the printers wrap them at 80 columns (help) or
 * leave the wrapping to roff (man page). Nothing here reads the config or touches
 * the warehouse. */
#ifndef FE_HELP_H
#define FE_HELP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* The overview: usage, commands with one line each, global options, exit codes. */
void help_overview(FILE *out);

/* The help of one command (usage lines, what it does, options, exit codes,
 * examples). False, printing nothing, when command names none. */
bool help_command(FILE *out, const char *command);

/* True when name is a command that has help (every command of the command line,
 * "help" included). */
bool help_knows(const char *name);

/* The command names in the order the overview lists them, comma-separated, into
 * dst (cut at n - 1 bytes). For messages such as "unknown command". */
void help_command_list(char *dst, size_t n);

/* True when args (a command's arguments) ask for its help: "-h" or "--help". */
bool help_requested(int nargs, const char *const *args);

/* `flowetl help [COMMAND]`: the overview, or COMMAND's help on stdout (exit 0); an
 * unknown COMMAND or more than one is an error on stderr listing the commands
 * (exit 2). Returns the exit code. */
int help_main(int nargs, const char *const *args);

/* The man page flowetl(1) in roff (man(7) macros), from the same texts. */
void help_man_page(FILE *out);

#endif
