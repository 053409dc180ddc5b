/* Heap corruption: freeing a pointer into the middle of a block. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static volatile int tokens_dropped;
__attribute__((noipa)) void drop_token(char *tok) {
    free(tok);                            /* tok points inside the line buffer */
    tokens_dropped++;
}
int main(int argc, char **argv) {
    char *line = malloc(128);
    strcpy(line, argc > 1 ? argv[1] : "key=value");
    drop_token(strchr(line, '=') + 1);
    return 0;
}
