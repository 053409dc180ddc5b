/* abort() called by the program on a fatal condition. */
#include <stdio.h>
#include <stdlib.h>
__attribute__((noipa)) void fatal_error(const char *what) {
    fprintf(stderr, "fatal: %s\n", what);
    abort();
}
__attribute__((noipa)) int open_journal(const char *path) {
    if (path[0] != '/') fatal_error("journal path must be absolute");
    return 0;
}
int main(int argc, char **argv) {
    return open_journal(argc > 1 ? argv[1] : "journal.log");
}
