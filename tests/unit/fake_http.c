/* fake_http: see fake_http.h. */
#include "tests/unit/fake_http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "extract/http.h"
#include "extract/ratelimit.h"

#define MAX_CONNS 256

struct fake_http {
    int listen_fd;
    int port;
    fake_http_route route;
    void *user;
    pthread_t acceptor;
    atomic_bool stop;
    pthread_mutex_t mu;
    pthread_t threads[MAX_CONNS];
    int fds[MAX_CONNS];
    int nconn;
    int accepted;
};

typedef struct {
    fake_http *srv;
    int fd;
} conn_arg;

bool fake_http_send_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t w = send(fd, p, len, MSG_NOSIGNAL);
        if (w <= 0)
            return false;
        p += w;
        len -= (size_t)w;
    }
    return true;
}

static void header_copy(const char *line, const char *name, char *dst, size_t size)
{
    size_t nl = strlen(name);
    if (strncasecmp(line, name, nl) != 0 || line[nl] != ':')
        return;
    const char *v = line + nl + 1;
    while (*v == ' ')
        v++;
    snprintf(dst, size, "%.*s", (int)strcspn(v, "\r"), v);
}

/* Parses the head (NUL-terminated at its blank line) into req; returns the
 * Content-Length (0 when absent). */
static size_t parse_head(char *head, fake_http_req *req)
{
    size_t content_length = 0;
    memset(req, 0, sizeof *req);
    req->t_us = ratelimit_now_us();
    sscanf(head, "%15s %1023s", req->method, req->target);
    for (char *line = strstr(head, "\r\n"); line; line = strstr(line, "\r\n")) {
        line += 2;
        header_copy(line, "Authorization", req->auth, sizeof req->auth);
        header_copy(line, "Host", req->host, sizeof req->host);
        header_copy(line, "Accept-Encoding", req->accept_encoding, sizeof req->accept_encoding);
        if (strncasecmp(line, "Content-Length:", 15) == 0)
            content_length = strtoul(line + 15, NULL, 10);
    }
    return content_length;
}

/* Reads until in[0..*have) holds `need` bytes; false when the peer is gone. */
static bool read_to(int fd, char *in, size_t *have, size_t need)
{
    while (*have < need) {
        ssize_t r = recv(fd, in + *have, need - *have, 0);
        if (r <= 0)
            return false;
        *have += (size_t)r;
    }
    return true;
}

static void *serve_conn(void *arg)
{
    conn_arg a = *(conn_arg *)arg;
    free(arg);
    char in[16384];
    size_t have = 0;
    for (;;) {
        char *end;
        while (!(end = memmem(in, have, "\r\n\r\n", 4))) {
            if (have == sizeof in)
                goto out;
            ssize_t r = recv(a.fd, in + have, sizeof in - have, 0);
            if (r <= 0)
                goto out;
            have += (size_t)r;
        }
        *end = '\0';
        size_t head_len = (size_t)(end - in) + 4;
        fake_http_req req;
        size_t content_length = parse_head(in, &req);
        if (content_length > sizeof in - head_len ||
            !read_to(a.fd, in, &have, head_len + content_length))
            goto out;
        bool keep = a.srv->route(a.srv->user, a.fd, &req, in + head_len, content_length);
        size_t used = head_len + content_length;
        memmove(in, in + used, have - used);
        have -= used;
        if (!keep)
            break;
    }
out:
    shutdown(a.fd, SHUT_RDWR);
    return NULL;
}

/* Hands a new connection to its own thread; false when none can be started. */
static bool conn_start(fake_http *srv, int fd)
{
    conn_arg *a = malloc(sizeof *a);
    if (!a)
        return false;
    *a = (conn_arg){srv, fd};
    pthread_mutex_lock(&srv->mu);
    bool ok = srv->nconn < MAX_CONNS &&
              pthread_create(&srv->threads[srv->nconn], NULL, serve_conn, a) == 0;
    if (ok) {
        srv->fds[srv->nconn++] = fd;
        srv->accepted++;
    }
    pthread_mutex_unlock(&srv->mu);
    if (!ok)
        free(a);
    return ok;
}

static void *accept_loop(void *arg)
{
    fake_http *srv = arg;
    while (!atomic_load(&srv->stop)) {
        struct pollfd p = {.fd = srv->listen_fd, .events = POLLIN};
        if (poll(&p, 1, 50) <= 0)
            continue;
        int fd = accept(srv->listen_fd, NULL, NULL);
        if (fd < 0)
            continue;
        struct timeval tv = {.tv_sec = 10};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        if (!conn_start(srv, fd))
            close(fd);
    }
    return NULL;
}

fake_http *fake_http_start(fake_http_route route, void *user)
{
    fake_http *srv = calloc(1, sizeof *srv);
    if (!srv)
        return NULL;
    srv->route = route;
    srv->user = user;
    pthread_mutex_init(&srv->mu, NULL);
    srv->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(srv->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof a;
    if (srv->listen_fd < 0 || bind(srv->listen_fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(srv->listen_fd, 64) != 0 ||
        getsockname(srv->listen_fd, (struct sockaddr *)&a, &alen) != 0 ||
        pthread_create(&srv->acceptor, NULL, accept_loop, srv) != 0)
        goto fail;
    srv->port = ntohs(a.sin_port);
    return srv;
fail:
    if (srv->listen_fd >= 0)
        close(srv->listen_fd);
    pthread_mutex_destroy(&srv->mu);
    free(srv);
    return NULL;
}

void fake_http_stop(fake_http *srv)
{
    if (!srv)
        return;
    atomic_store(&srv->stop, true);
    pthread_join(srv->acceptor, NULL);
    close(srv->listen_fd);
    for (int i = 0; i < srv->nconn; i++)
        shutdown(srv->fds[i], SHUT_RDWR);
    for (int i = 0; i < srv->nconn; i++) {
        pthread_join(srv->threads[i], NULL);
        close(srv->fds[i]);
    }
    pthread_mutex_destroy(&srv->mu);
    free(srv);
}

int fake_http_port(const fake_http *srv)
{
    return srv->port;
}

int fake_http_accepted(fake_http *srv)
{
    pthread_mutex_lock(&srv->mu);
    int n = srv->accepted;
    pthread_mutex_unlock(&srv->mu);
    return n;
}

int fake_http_suite_init(void)
{
    return http_global_init() ? 0 : -1;
}

int fake_http_suite_term(void)
{
    http_global_term();
    return 0;
}
