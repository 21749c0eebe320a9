//go:build !unix

package risk

func cpuSeconds() float64 { return 0 }
