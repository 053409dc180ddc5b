/* Also dies inside strlen, but a different bug: a header line missing its value. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static volatile size_t headers_seen;
__attribute__((noipa)) const char *header_value(const char *line) {
    return strchr(line, ':');            /* NULL when there is no ':' */
}
__attribute__((noipa)) size_t parse_header_length(const char *line) {
    const char *v = header_value(line);
    size_t n = strlen(v);                /* v is NULL */
    headers_seen++;
    return n;
}
int main(int argc, char **argv) {
    printf("%zu\n", parse_header_length(argc > 1 ? argv[1] : "Content-Length 42"));
    return 0;
}
