/* Wild pointer through a non-canonical address (an overwritten pointer full of 'A's):
 * x86-64 raises #GP, the kernel reports SIGSEGV with si_code=SI_KERNEL and si_addr 0. */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
struct session { char name[16]; struct session *next; };
__attribute__((noipa)) int walk_sessions(struct session *s) {
    int n = 0;
    while (s) { n += s->name[0]; s = s->next; }
    return n;
}
int main(int argc, char **argv) {
    struct session *s = calloc(1, sizeof *s);
    const char *src = argc > 1 ? argv[1] : "AAAAAAAAAAAAAAAAAAAAAAAA";
    memcpy(s, src, strlen(src));           /* overflows name into next */
    printf("%d\n", walk_sessions(s));
    return 0;
}
