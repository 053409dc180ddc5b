package main

/*
#include <stddef.h>
struct header { int length; };
__attribute__((noinline)) static int header_length(struct header *h) { return h->length; }
static int parse_header(void) { struct header *h = NULL; return header_length(h); }
*/
import "C"

import "fmt"

func main() {
	fmt.Println("parsing")
	fmt.Println(C.parse_header())
}
