/* Bus error: reading a mapped file after it was truncated. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
__attribute__((noipa)) long read_mapped_record(const volatile char *map, long off) {
    return map[off];
}
int main(void) {
    char path[] = "/tmp/fx-cr-busXXXXXX";
    int fd = mkstemp(path);
    if (fd < 0 || ftruncate(fd, 8192) != 0) return 1;
    char *map = mmap(NULL, 8192, PROT_READ, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) return 1;
    if (ftruncate(fd, 0) != 0) return 1;   /* someone shrinks the file under us */
    unlink(path);
    printf("%ld\n", read_mapped_record(map, 4096));
    return 0;
}
