package main

import (
	"fmt"
	"sync"
)

var ledger sync.Mutex

//go:noinline
func collectResults(results chan int) int {
	total := 0
	for r := range results { // nobody closes the channel: waits forever
		total += r
	}
	return total
}

//go:noinline
func worker(id int, results chan int) {
	ledger.Lock() // never unlocked by the first worker: the second one blocks here
	results <- id
}

func main() {
	results := make(chan int)
	go worker(1, results)
	go worker(2, results)
	fmt.Println(collectResults(results))
}
