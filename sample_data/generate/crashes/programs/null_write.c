/* NULL pointer write: storing into a result slot that was never allocated. */
#include <stdio.h>
#include <stdlib.h>
struct result { int status; long value; };
__attribute__((noipa)) void store_result(struct result *out, long v) {
    out->value = v;                       /* out is NULL */
    out->status = 1;
}
int main(int argc, char **argv) {
    struct result *slot = argc > 2 ? malloc(sizeof *slot) : NULL;
    store_result(slot, argc > 1 ? atol(argv[1]) : 42);
    printf("%d\n", slot != NULL);
    return 0;
}
