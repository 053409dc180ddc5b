/* Unbounded recursion: a tree walk whose cycle check is missing. */
#include <stdio.h>
#include <stdlib.h>
struct node { struct node *child; int weight; };
__attribute__((noipa)) long walk_tree(struct node *n, int depth) {
    volatile char scratch[8];
    scratch[depth & 7] = (char)depth;
    if (!n) return 0;
    long below = walk_tree(n->child, depth + 1);   /* the node is its own child */
    return below + n->weight + scratch[0];
}
int main(int argc, char **argv) {
    struct node *root = malloc(sizeof *root);
    root->child = root;
    root->weight = argc;
    printf("%ld\n", walk_tree(root, 0));
    return 0;
}
