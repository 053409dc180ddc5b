/* A hang killed from outside: `timeout -s ABRT` fires while the program waits forever
 * for a reply that never comes. */
#include <poll.h>
#include <stdio.h>
#include <unistd.h>
__attribute__((noipa)) int wait_for_reply(int fd) {
    struct pollfd p = {fd, POLLIN, 0};
    for (;;) {
        int r = poll(&p, 1, 1000);        /* the peer never writes */
        if (r > 0) return 1;
    }
}
int main(void) {
    int fds[2];
    if (pipe(fds) != 0) return 1;
    return wait_for_reply(fds[0]);
}
