/* Use after free: a session is freed on logout, then a stale pointer to it is used. */
#include <stdio.h>
#include <stdlib.h>
struct session { int user; int hits; };
static struct session *current;
__attribute__((noipa)) void logout(void) { free(current); }     /* current is not cleared */
__attribute__((noipa)) int count_hit(void) { return ++current->hits; }
int main(void) {
    current = calloc(1, sizeof *current);
    logout();
    printf("%d\n", count_hit());
    return 0;
}
