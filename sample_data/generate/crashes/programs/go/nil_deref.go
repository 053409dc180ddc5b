package main

import "fmt"

type Config struct {
	Name    string
	Retries int
}

//go:noinline
func retries(c *Config) int {
	return c.Retries + 1
}

func main() {
	var cfg *Config
	fmt.Println("starting")
	fmt.Println(retries(cfg))
}
