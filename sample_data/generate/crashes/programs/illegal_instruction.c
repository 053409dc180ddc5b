/* Illegal instruction: a deliberate trap (ud2) on an impossible state. */
#include <stdio.h>
#include <stdlib.h>
__attribute__((noipa)) int check_state(int state) {
    if (state > 3) __builtin_trap();
    return state * 2;
}
int main(int argc, char **argv) {
    printf("%d\n", check_state(argc > 1 ? atoi(argv[1]) : 9));
    return 0;
}
