/* Wild pointer read: a pointer rebuilt from a garbage integer. */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
__attribute__((noipa)) long sum_samples(const long *samples, int n) {
    long s = 0;
    for (int i = 0; i < n; i++) s += samples[i];
    return s;
}
int main(int argc, char **argv) {
    uintptr_t raw = argc > 1 ? strtoull(argv[1], 0, 16) : 0xdeadbeef000ULL;
    printf("%ld\n", sum_samples((const long *)raw, 4));
    return 0;
}
