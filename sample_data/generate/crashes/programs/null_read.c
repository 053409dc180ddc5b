/* NULL pointer read: a lookup that returns NULL is dereferenced. */
#include <stdio.h>
#include <stdlib.h>
struct record { int id; int count; };
static struct record table[2] = {{1, 10}, {2, 20}};
__attribute__((noipa)) struct record *find_record(int id) {
    for (int i = 0; i < 2; i++) if (table[i].id == id) return &table[i];
    return NULL;
}
__attribute__((noipa)) int read_record_count(int id) {
    struct record *r = find_record(id);
    return r->count;                      /* r is NULL for an unknown id */
}
int main(int argc, char **argv) {
    int id = argc > 1 ? atoi(argv[1]) : 7;
    printf("count=%d\n", read_record_count(id));
    return 0;
}
