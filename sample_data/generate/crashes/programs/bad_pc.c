/* Bad PC: calling through a NULL entry of a handler table. */
#include <stdio.h>
#include <stdlib.h>
typedef int (*handler_fn)(int);
static int on_open(int x) { return x + 1; }
static handler_fn handlers[4] = {on_open, on_open, 0, on_open};
__attribute__((noipa)) int dispatch_event(int kind, int arg) {
    handler_fn h = handlers[kind & 3];
    return h(arg) * 2;                    /* handlers[2] is NULL */
}
int main(int argc, char **argv) {
    int kind = argc > 1 ? atoi(argv[1]) : 2;
    printf("%d\n", dispatch_event(kind, 5));
    return 0;
}
