/* replay: runs every file of the fuzz corpus through its target's harness, the
 * same checks the fuzzers make, without libFuzzer: a plain regression test for
 * any compiler (ctest: unit.fuzz_corpus). Usage: fuzz_replay CORPUS_DIR, which
 * holds one folder per target (tests/fuzz/corpus/<target>/); or fuzz_replay
 * TARGET FILE... A failing input aborts with the check that failed. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/harness.h"

static int replay_file(fuzz_target t, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: cannot open %s\n", path);
        return 1;
    }
    size_t cap = 1 << 16, len = 0, got;
    unsigned char *data = malloc(cap);
    while (data && (got = fread(data + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) {
            unsigned char *more = realloc(data, cap *= 2);
            if (!more)
                free(data);
            data = more;
        }
    }
    fclose(f);
    if (!data) {
        fprintf(stderr, "replay: out of memory reading %s\n", path);
        return 1;
    }
    fprintf(stderr, "replay %s %s\n", fuzz_target_name(t), path);
    fuzz_run(t, data, len);
    free(data);
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file of dir, in name order. Returns the number replayed, -1 on error. */
static int replay_dir(fuzz_target t, const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char *names[4096];
    int n = 0, done = 0;
    if (!d) {
        fprintf(stderr, "replay: no corpus folder %s\n", dir);
        return -1;
    }
    while ((e = readdir(d)) != NULL && n < 4096)
        if (e->d_name[0] != '.')
            names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], by_name);
    for (int i = 0; i < n; i++) {
        char path[4096];
        int len = snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (len > 0 && (size_t)len < sizeof path && replay_file(t, path) == 0)
            done++;
        free(names[i]);
    }
    return done == n ? done : -1;
}

int main(int argc, char **argv)
{
    if (argc == 2) {
        int total = 0;
        for (int t = 0; t < FUZZ__COUNT; t++) {
            char dir[4096];
            int len = snprintf(dir, sizeof dir, "%s/%s", argv[1], fuzz_target_name(t));
            int n = len > 0 && (size_t)len < sizeof dir ? replay_dir(t, dir) : -1;
            if (n <= 0) {
                fprintf(stderr, "replay: %s: no inputs replayed\n", dir);
                return 1;
            }
            printf("%s: %d inputs\n", fuzz_target_name(t), n);
            total += n;
        }
        printf("%d inputs replayed, every check held\n", total);
        return 0;
    }
    int t = argc > 2 ? fuzz_target_find(argv[1]) : -1;
    if (t < 0) {
        fprintf(stderr, "usage: fuzz_replay CORPUS_DIR | fuzz_replay TARGET FILE...\n");
        return 2;
    }
    for (int i = 2; i < argc; i++)
        if (replay_file((fuzz_target)t, argv[i]) != 0)
            return 1;
    return 0;
}
