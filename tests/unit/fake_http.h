/* fake_http: a small HTTP/1.1 server for unit tests, run in the test process on
 * 127.0.0.1 and a free port: POSIX sockets, one thread per connection, keep-alive,
 * requests with a Content-Length body. It parses the request head and hands each
 * request to the test's route, which writes the whole answer itself. */
#ifndef FE_TEST_FAKE_HTTP_H
#define FE_TEST_FAKE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    char method[16];
    char target[1024]; /* path and query as requested */
    char auth[256];    /* Authorization header, "" when absent */
    char host[128];
    char accept_encoding[128];
    int64_t t_us; /* arrival, on the clock of ratelimit_now_us */
} fake_http_req;

/* One request, on its connection's thread: answer on fd (fake_http_send_all) and
 * return whether the connection stays open. */
typedef bool (*fake_http_route)(void *user, int fd, const fake_http_req *req, const char *body,
                                size_t body_len);

typedef struct fake_http fake_http;

/* Starts listening and accepting; user is passed to route. NULL on failure. Stop
 * and free with fake_http_stop. */
fake_http *fake_http_start(fake_http_route route, void *user);

/* Closes every connection, joins their threads and frees srv (NULL: nothing). */
void fake_http_stop(fake_http *srv);

int fake_http_port(const fake_http *srv);

/* Connections accepted so far. */
int fake_http_accepted(fake_http *srv);

/* Writes all of data; false when the peer is gone. */
bool fake_http_send_all(int fd, const void *data, size_t len);

/* CUnit suite callbacks for a suite that starts its servers per test: libcurl's
 * global init (0 on success) and term. */
int fake_http_suite_init(void);
int fake_http_suite_term(void);

#endif
