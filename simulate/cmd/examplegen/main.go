// Command examplegen writes the example data under examples/: the example
// book (portfolio.csv), a history with churn outcomes for the backtest demo
// (history.csv, churn.csv) and a file with invalid rows (bad_rows.csv).
//
//	go run ./simulate/cmd/examplegen -dir examples
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/churnwatch/churnwatch/simulate"
)

func main() {
	dir := flag.String("dir", "examples", "directory to write the example files into")
	flag.Parse()
	if err := write(*dir); err != nil {
		fmt.Fprintln(os.Stderr, "examplegen:", err)
		os.Exit(1)
	}
}

func write(dir string) error {
	files, err := simulate.ExampleFiles()
	if err != nil {
		return err
	}
	for name, data := range files {
		path := filepath.Join(dir, name)
		if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
			continue
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		fmt.Println("wrote", path)
	}
	return nil
}
