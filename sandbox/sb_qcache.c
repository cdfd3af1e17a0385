#include "sb_qcache.h"

#include <stdlib.h>
#include <string.h>

void sb_qcache_init(sb_qcache *c)
{
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
}

static void drop(sb_qcache_entry *e)
{
    free(e->key);
    free(e->idx);
    memset(e, 0, sizeof *e);
}

void sb_qcache_clear(sb_qcache *c)
{
    pthread_mutex_lock(&c->mu);
    for (int i = 0; i < SB_QCACHE_SLOTS; i++)
        drop(&c->e[i]);
    pthread_mutex_unlock(&c->mu);
}

void sb_qcache_term(sb_qcache *c)
{
    sb_qcache_clear(c);
    pthread_mutex_destroy(&c->mu);
}

bool sb_qcache_get(sb_qcache *c, const char *key, uint64_t version, uint64_t offset, uint32_t limit,
                   uint32_t *page, uint32_t *n, uint32_t *total, int64_t aux[SB_QCACHE_AUX])
{
    bool hit = false;
    pthread_mutex_lock(&c->mu);
    for (int i = 0; i < SB_QCACHE_SLOTS && !hit; i++) {
        sb_qcache_entry *e = &c->e[i];
        if (e->key == NULL || e->version != version || strcmp(e->key, key) != 0)
            continue;
        hit = true;
        e->used = ++c->tick;
        uint64_t avail = offset < e->count ? e->count - offset : 0;
        *n = avail < limit ? (uint32_t)avail : limit;
        if (*n > 0)
            memcpy(page, e->idx + offset, (size_t)*n * sizeof *page);
        *total = e->count;
        memcpy(aux, e->aux, sizeof e->aux);
    }
    pthread_mutex_unlock(&c->mu);
    return hit;
}

void sb_qcache_put(sb_qcache *c, const char *key, uint64_t version, uint32_t *idx, uint32_t count,
                   const int64_t aux[SB_QCACHE_AUX])
{
    char *k = strdup(key);
    if (k == NULL) {
        free(idx);
        return;
    }
    pthread_mutex_lock(&c->mu);
    /* The same key (two threads computed it at once), else a free slot, else the
     * least recently used entry. */
    int v = -1;
    for (int i = 0; i < SB_QCACHE_SLOTS && v < 0; i++)
        if (c->e[i].key != NULL && strcmp(c->e[i].key, key) == 0)
            v = i;
    for (int i = 0; i < SB_QCACHE_SLOTS && v < 0; i++)
        if (c->e[i].key == NULL)
            v = i;
    if (v < 0) {
        v = 0;
        for (int i = 1; i < SB_QCACHE_SLOTS; i++)
            if (c->e[i].used < c->e[v].used)
                v = i;
    }
    sb_qcache_entry *victim = &c->e[v];
    drop(victim);
    victim->key = k;
    victim->version = version;
    victim->idx = idx;
    victim->count = count;
    memcpy(victim->aux, aux, sizeof victim->aux);
    victim->used = ++c->tick;
    pthread_mutex_unlock(&c->mu);
}
