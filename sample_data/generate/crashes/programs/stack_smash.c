/* Stack buffer overrun caught by the canary (or by _FORTIFY_SOURCE at -O2). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
__attribute__((noipa)) int parse_username(const char *input, size_t n) {
    char name[16];
    memcpy(name, input, n);              /* n comes from the packet, unchecked */
    return name[0] + name[15];
}
int main(int argc, char **argv) {
    static char packet[256];
    memset(packet, 'A', sizeof packet);
    size_t n = argc > 1 ? (size_t)atoi(argv[1]) : 64;
    printf("%d\n", parse_username(packet, n));
    return 0;
}
