/* A native worker that polls an HTTP service — and crashes the way real ones do.
 *
 *   worker MODE HOST PORT PATH TIMEOUT_MS
 *
 * MODE "fulfil": fetch_next_order() returns NULL when the call times out, and
 *   ship_order() dereferences it without a check -> SIGSEGV (NULL read).
 * MODE "sync":   a failed call (connection refused / reset / EOF) trips an assert -> SIGABRT.
 * A heartbeat thread runs alongside, so `thread apply all bt` shows two threads.
 * Built with -g -O0 by the stage scripts; it is run under gdb -batch.
 */
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct order {
    long id;
    long customer_id;
    char status[16];
};

static volatile long beats;

static void *heartbeat(void *arg) {
    (void)arg;
    for (;;) {
        beats++;
        sleep(1);
    }
    return NULL;
}

static void logline(const char *what) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    fprintf(stderr, "%ld.%03ld worker: %s\n", (long)ts.tv_sec, ts.tv_nsec / 1000000, what);
}

/* One HTTP/1.0 GET; the body in a malloc'd buffer, or NULL on any failure or timeout. */
static char *http_get(const char *host, int port, const char *path, int timeout_ms) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    inet_pton(AF_INET, host, &sa.sin_addr);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        logline(strerror(errno));
        close(fd);
        return NULL;
    }
    char req[256];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n", path, host);
    if (write(fd, req, n) != n) {
        close(fd);
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    struct pollfd p = {.fd = fd, .events = POLLIN};
    for (;;) {
        int r = poll(&p, 1, timeout_ms);
        if (r == 0) {
            logline("timed out");
            free(buf);
            close(fd);
            return NULL;
        }
        ssize_t got = read(fd, buf + len, cap - len - 1);
        if (got < 0) {
            logline(strerror(errno));
            free(buf);
            close(fd);
            return NULL;
        }
        if (got == 0)
            break;
        len += (size_t)got;
        if (len + 1 >= cap)
            buf = realloc(buf, cap *= 2);
    }
    close(fd);
    buf[len] = 0;
    if (len == 0) {
        logline("empty reply");
        free(buf);
        return NULL;
    }
    return buf;
}

static struct order *fetch_next_order(const char *host, int port, const char *path, int timeout_ms) {
    char *body = http_get(host, port, path, timeout_ms);
    if (body == NULL)
        return NULL; /* the caller is supposed to check... */
    struct order *o = calloc(1, sizeof *o);
    char *json = strstr(body, "\r\n\r\n");
    if (json)
        sscanf(json, "\r\n\r\n{\"id\": %ld, \"customer_id\": %ld", &o->id, &o->customer_id);
    strcpy(o->status, "paid");
    free(body);
    return o;
}

static long ship_order(struct order *o) {
    long shipped = o->id; /* BUG: o is NULL when the call timed out */
    strcpy(o->status, "shipped");
    return shipped;
}

static void sync_prices(const char *host, int port, const char *path, int timeout_ms) {
    char *reply = http_get(host, port, path, timeout_ms);
    assert(reply != NULL && "catalog reply missing");
    free(reply);
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: %s fulfil|sync HOST PORT PATH TIMEOUT_MS\n", argv[0]);
        return 2;
    }
    const char *mode = argv[1], *host = argv[2], *path = argv[4];
    int port = atoi(argv[3]), timeout_ms = atoi(argv[5]);
    pthread_t hb;
    pthread_create(&hb, NULL, heartbeat, NULL);
    long done = 0;
    for (;;) {
        if (strcmp(mode, "fulfil") == 0) {
            struct order *o = fetch_next_order(host, port, path, timeout_ms);
            ship_order(o);
            done++;
            free(o);
        } else {
            sync_prices(host, port, path, timeout_ms);
            done++;
        }
        usleep(strcmp(mode, "sync") == 0 ? 1000000 : 300000);
    }
    return 0;
}
