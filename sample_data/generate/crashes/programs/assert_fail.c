/* Assertion failure on a configuration value. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
struct config { const char *host; int port; };
__attribute__((noipa)) void validate_config(const struct config *cfg) {
    assert(cfg->port > 0 && cfg->port < 65536);
    printf("%s:%d\n", cfg->host, cfg->port);
}
int main(int argc, char **argv) {
    struct config cfg = {"db.internal", argc > 1 ? atoi(argv[1]) : -1};
    validate_config(&cfg);
    return 0;
}
