/* cmdline: the command line as etl.run.command_line records it: every argument as
 * typed, in its order, secrets replaced by "***" (log_redact: the secrets core/log
 * holds, so call it after log_init), and quoted for a POSIX shell where needed, so
 * the text can be pasted back into a shell. */
#ifndef FE_CMDLINE_H
#define FE_CMDLINE_H

/* argv[0..argc) joined by spaces; an argument with characters a shell treats
 * specially (or an empty one) in single quotes, each ' as '\''. A malloc'd string
 * the caller frees (cut after the last argument within 64 KiB); NULL when memory
 * runs out. */
char *cmdline_text(int argc, const char *const *argv);

#endif
