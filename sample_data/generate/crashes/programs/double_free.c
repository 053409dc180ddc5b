/* Heap corruption: the same buffer released twice. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
struct buffer { char *data; size_t len; };
__attribute__((noipa)) void release_buffer(struct buffer *b) {
    free(b->data);                        /* b->data is not cleared */
    b->len = 0;
}
int main(int argc, char **argv) {
    struct buffer b = {malloc(64), 64};
    strcpy(b.data, argc > 1 ? argv[1] : "payload");
    release_buffer(&b);
    release_buffer(&b);
    puts("done");
    return 0;
}
