/* Integer divide by zero: an average over an empty batch. */
#include <stdio.h>
#include <stdlib.h>
__attribute__((noipa)) int average_latency(const int *v, int n) {
    int total = v[0];
    for (int i = 1; i < n; i++) total += v[i];
    return total / n;                    /* n == 0 */
}
int main(int argc, char **argv) {
    int samples[4] = {3, 5, 7, 9};
    printf("%d\n", average_latency(samples, argc > 1 ? atoi(argv[1]) : 0));
    return 0;
}
