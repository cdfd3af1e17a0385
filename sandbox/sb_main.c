/* flowetl-sandbox: command line and lifecycle. The contract (options, control
 * endpoints, faults, truth) is in docs/internals.md, "The sandbox contract". */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "sb_server.h"

typedef struct {
    const char *host;
    long port;
    const char *port_file;
    sb_config data;
    sb_faults faults;
    sb_hostile hostile;
    const char *foreign_host; /* NULL: none */
    long threads;
} options;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: flowetl-sandbox [--host 127.0.0.1] [--port N] [--port-file FILE]\n"
            "                       [--seed N] [--scale X] [--faults SPEC] [--threads N]\n"
            "                       [--hostile SPEC] [--poison] [--foreign-host 127.0.0.2|none]\n"
            "                       [--mismatch hide-order=VENDOR,amount-off=posiflora]\n"
            "Serves emulated vendor APIs on loopback (Posiflora under /posiflora/api),\n"
            "with control endpoints under /_sandbox/. See docs/sandbox.md.\n");
}

static bool parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/* Returns 0 to go on, 1 when --help was printed, 2 on a usage error (printed). */
static int parse_options(int argc, char **argv, options *o)
{
    static const struct option longopts[] = {{"host", required_argument, NULL, 'h'},
                                             {"port", required_argument, NULL, 'p'},
                                             {"port-file", required_argument, NULL, 'f'},
                                             {"seed", required_argument, NULL, 's'},
                                             {"scale", required_argument, NULL, 'x'},
                                             {"faults", required_argument, NULL, 'F'},
                                             {"threads", required_argument, NULL, 't'},
                                             {"hostile", required_argument, NULL, 'Y'},
                                             {"poison", no_argument, NULL, 'P'},
                                             {"foreign-host", required_argument, NULL, 'O'},
                                             {"mismatch", required_argument, NULL, 'M'},
                                             {"help", no_argument, NULL, 'H'},
                                             {NULL, 0, NULL, 0}};
    char err[256];
    long seed = 1;
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        const char *bad = NULL; /* the option whose value was rejected */
        switch (c) {
        case 'h':
            o->host = optarg;
            break;
        case 'p':
            if (!parse_long(optarg, 0, 65535, &o->port))
                bad = "port";
            break;
        case 'f':
            o->port_file = optarg;
            break;
        case 's':
            if (!parse_long(optarg, 0, 0x7fffffffL, &seed))
                bad = "seed";
            o->data.seed = (uint64_t)seed;
            break;
        case 'x': {
            char *end;
            errno = 0;
            o->data.scale = strtod(optarg, &end);
            if (errno != 0 || end == optarg || *end != '\0' || !(o->data.scale >= 0.001) ||
                o->data.scale > 1000)
                bad = "scale (0.001..1000)";
            break;
        }
        case 'F':
            if (!sb_faults_parse_spec(&o->faults, optarg, err, sizeof err)) {
                fprintf(stderr, "flowetl-sandbox: --faults: %s\n", err);
                return 2;
            }
            if (!sb_server_known_endpoints(o->faults.malformed)) {
                fprintf(stderr, "flowetl-sandbox: --faults: unknown endpoint in malformed=\n");
                return 2;
            }
            break;
        case 't':
            if (!parse_long(optarg, 1, 256, &o->threads))
                bad = "threads (1..256)";
            break;
        case 'Y':
            if (!sb_hostile_parse(&o->hostile, optarg, sb_server_known_endpoints, err,
                                  sizeof err)) {
                fprintf(stderr, "flowetl-sandbox: --hostile: %s\n", err);
                return 2;
            }
            break;
        case 'P':
            o->data.poison = true;
            break;
        case 'O':
            o->foreign_host = strcmp(optarg, "none") == 0 ? NULL : optarg;
            break;
        case 'M':
            if (!sb_mismatch_parse(&o->data.mismatch, optarg, err, sizeof err)) {
                fprintf(stderr, "flowetl-sandbox: --mismatch: %s\n", err);
                return 2;
            }
            break;
        case 'H':
            usage(stdout);
            return 1;
        default:
            usage(stderr);
            return 2;
        }
        if (bad != NULL) {
            fprintf(stderr, "flowetl-sandbox: bad value '%s' for --%s\n", optarg, bad);
            return 2;
        }
    }
    if (optind < argc) {
        usage(stderr);
        return 2;
    }
    return 0;
}

/* Writes the port atomically (temp file + rename), so a reader never sees a
 * partial number. */
static bool write_port_file(const char *path, int port)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return false;
    FILE *f = fopen(tmp, "w");
    if (f == NULL)
        return false;
    bool ok = fprintf(f, "%d\n", port) > 0;
    ok = fclose(f) == 0 && ok;
    if (ok && rename(tmp, path) == 0)
        return true;
    unlink(tmp);
    return false;
}

int main(int argc, char **argv)
{
    options o = {.host = "127.0.0.1",
                 .port = 0,
                 .threads = 4,
                 .foreign_host = "127.0.0.2",
                 .data = {.seed = 1, .scale = 1.0}};
    sb_faults_clear(&o.faults);
    sb_hostile_clear(&o.hostile);
    int rc = parse_options(argc, argv, &o);
    if (rc != 0)
        return rc == 1 ? 0 : 2;

    /* Block the stop signals before any thread exists, so every daemon thread
     * inherits the mask and main receives them in sigwait. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    char err[512];
    sb_server *s = sb_server_new(&o.data, &o.faults, err, sizeof err);
    if (s == NULL) {
        fprintf(stderr, "flowetl-sandbox: %s\n", err);
        return 1;
    }
    sb_server_set_hostile(s, &o.hostile);
    int port = 0;
    if (!sb_server_start(s, o.host, (int)o.port, (int)o.threads, &port, err, sizeof err)) {
        fprintf(stderr, "flowetl-sandbox: %s\n", err);
        sb_server_free(s);
        return 1;
    }
    /* Another host for the hostile switches; without it they answer 500. */
    if (o.foreign_host != NULL && !sb_server_start_foreign(s, o.foreign_host, err, sizeof err))
        fprintf(stderr, "flowetl-sandbox: warning: %s: redirect= and foreign_next= are off\n", err);
    if (o.port_file != NULL && !write_port_file(o.port_file, port)) {
        fprintf(stderr, "flowetl-sandbox: cannot write %s: %s\n", o.port_file, strerror(errno));
        sb_server_free(s);
        return 1;
    }
    printf("listening on http://%s:%d\n", o.host, port);
    fflush(stdout);

    int sig = 0;
    while (sigwait(&stop, &sig) != 0)
        ;
    sb_server_free(s);
    return 0;
}
