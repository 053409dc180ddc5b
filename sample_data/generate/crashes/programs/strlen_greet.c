/* Dies inside strlen: greeting a user whose name was never set. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
__attribute__((noipa)) size_t greet_user(const char *name) {
    size_t n = strlen(name);             /* name is NULL */
    printf("hello %s\n", name);
    return n;
}
int main(int argc, char **argv) {
    return (int)greet_user(argc > 1 ? argv[1] : getenv("FX_CR_UNSET_USER_NAME"));
}
