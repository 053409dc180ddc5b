/* Heap corruption found later: an overflow of the last chunk tramples the top chunk's
 * size; glibc notices at the next large allocation ("malloc(): corrupted top size"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static volatile int arenas;
__attribute__((noipa)) char *copy_line(const char *src, size_t n) {
    char *dst = malloc(24);
    memset(dst, 0xff, n);                 /* n is larger than 24 */
    memcpy(dst, src, n < 8 ? n : 8);
    return dst;
}
__attribute__((noipa)) char *grow_arena(size_t n) {
    char *p = malloc(n);                  /* the root cause is in copy_line, not here */
    arenas++;
    return p;
}
int main(int argc, char **argv) {
    char *line = copy_line("overflow", argc > 1 ? (size_t)atoi(argv[1]) : 48);
    char *big = grow_arena(200000 - 100000 + 4096);
    printf("%p %p\n", (void *)line, (void *)big);
    return 0;
}
