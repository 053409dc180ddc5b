/* invoice-exporter: a native batch job that pulls invoices from billing and writes ledger rows.
 *
 *   exporter HOST PORT PAUSE_MS
 *
 * Each job gets a fresh W3C trace context (traceparent header to billing), and every log line
 * names it — the only clock of this program is its log on stdout (ISO 8601 UTC, ms), which a
 * `gdb -batch` session interleaves with its own output.
 * BUG: average_line_cents() divides by the line count, which billing v2 reports as 0 for invoices
 * it wrote without lines -> SIGFPE (integer divide by zero).
 * Built with -g -O0 by the stage script; run under gdb -batch.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct job {
    long invoice;
    long lines;
    long total_cents;
    char trace_id[33];
    char span_id[17];
};

static void logf_(const struct job *j, const char *what) {
    struct timespec ts;
    struct tm tm;
    char when[32];
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    if (j)
        printf("%s.%03ldZ invoice-exporter INFO trace_id=%s span_id=%s %s\n", when, ts.tv_nsec / 1000000,
               j->trace_id, j->span_id, what);
    else
        printf("%s.%03ldZ invoice-exporter INFO %s\n", when, ts.tv_nsec / 1000000, what);
    fflush(stdout);
}

static void random_hex(char *out, int nbytes) {
    unsigned char b[16];
    int fd = open("/dev/urandom", O_RDONLY);
    if (fd < 0 || read(fd, b, nbytes) != nbytes)
        exit(3);
    close(fd);
    for (int i = 0; i < nbytes; i++)
        sprintf(out + 2 * i, "%02x", b[i]);
    out[2 * nbytes] = 0;
}

/* GET path with a traceparent header; the reply body (malloc'd) or NULL. */
static char *http_get(const char *host, int port, const char *path, const struct job *j) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    inet_pton(AF_INET, host, &sa.sin_addr);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return NULL;
    }
    char req[512];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.0\r\nHost: %s\r\ntraceparent: 00-%s-%s-01\r\nUser-Agent: invoice-exporter/1.4\r\n\r\n",
                     path, host, j->trace_id, j->span_id);
    if (write(fd, req, n) != n) {
        close(fd);
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    struct pollfd p = {.fd = fd, .events = POLLIN};
    while (poll(&p, 1, 2000) > 0) {
        ssize_t got = read(fd, buf + len, cap - len - 1);
        if (got <= 0)
            break;
        len += (size_t)got;
        if (len + 1 >= cap)
            buf = realloc(buf, cap *= 2);
    }
    close(fd);
    buf[len] = 0;
    return buf;
}

static int fetch_job(const char *host, int port, struct job *j) {
    random_hex(j->trace_id, 16);
    random_hex(j->span_id, 8);
    logf_(j, "GET /export/next");
    char *reply = http_get(host, port, "/export/next", j);
    if (reply == NULL)
        return 0;
    char *body = strstr(reply, "\r\n\r\n");
    int ok = body && sscanf(body, "\r\n\r\n{\"invoice\": %ld, \"lines\": %ld, \"total_cents\": %ld",
                            &j->invoice, &j->lines, &j->total_cents) == 3;
    free(reply);
    return ok && j->invoice > 0;
}

static long average_line_cents(const struct job *j) {
    return j->total_cents / j->lines; /* BUG: an invoice without lines */
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s HOST PORT PAUSE_MS\n", argv[0]);
        return 2;
    }
    const char *host = argv[1];
    int port = atoi(argv[2]), pause_ms = atoi(argv[3]);
    logf_(NULL, "started");
    long exported = 0;
    for (;;) {
        struct job j = {0};
        if (fetch_job(host, port, &j)) {
            char what[128];
            snprintf(what, sizeof what, "invoice %ld: %ld lines, %ld cents", j.invoice, j.lines, j.total_cents);
            logf_(&j, what);
            long avg = average_line_cents(&j);
            snprintf(what, sizeof what, "invoice %ld exported (average line %ld cents)", j.invoice, avg);
            logf_(&j, what);
            exported++;
        }
        usleep(pause_ms * 1000);
    }
    return 0;
}
