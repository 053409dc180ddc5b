// A Go service that leaks, with heap profiles written by runtime/pprof.
//
//	go run leaky.go OUTDIR
//
// Writes go_heap_t0.pb.gz, go_heap_t1.pb.gz, go_heap_t2.pb.gz (gzipped profile.proto, as
// `go tool pprof` reads them). MemProfileRate is set to 4096 so that the small heap is
// sampled densely; the values are still sampled estimates.
// Planted leak: *Order values (each with a 1 KiB buffer) kept in a global map by remember();
// churn: a fixed ring of 64 scratch slices replaced one for one.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
)

type Order struct {
	ID      int
	Payload []byte
}

var leaked = map[int]*Order{}
var ring [64][]int64

func remember(i int) {
	leaked[i] = &Order{ID: i, Payload: make([]byte, 1024)} // the leak: never deleted
}

func churn(i int) {
	ring[i%64] = make([]int64, 32) // replaced one for one
}

func serve(n, start int) {
	for i := start; i < start+n; i++ {
		remember(i)
		churn(i)
	}
}

func write(dir, name string) {
	runtime.GC() // twice: the heap profile reports the state as of the last completed GC cycle
	runtime.GC()
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		panic(err)
	}
	defer f.Close()
	if err := pprof.WriteHeapProfile(f); err != nil {
		panic(err)
	}
}

func main() {
	runtime.MemProfileRate = 4096
	dir := "."
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	serve(500, 0)
	write(dir, "go_heap_t0.pb.gz")
	serve(4000, 10000)
	write(dir, "go_heap_t1.pb.gz")
	serve(4000, 20000)
	write(dir, "go_heap_t2.pb.gz")
	fmt.Println("kept", len(leaked), "orders")
}
