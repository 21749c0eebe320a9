package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDataDirPermissions starts a worker on a data dir that does not exist
// yet and scans a file with many bad rows (so that a rejections file is
// written): the dir must be the user's alone, and so must everything the
// worker wrote in it (both SQLite files, their WAL files, the rejections).
func TestDataDirPermissions(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	cfg := testConfig(t, dataDir)
	c := startWorker(t, cfg)

	file := filepath.Join(t.TempDir(), "week.csv")
	body := "account_id,account_name,week,owner,arr,logins,dau_mau\n" +
		"A-1,Northwind,2026-11-16,dana,84000,120,0.41\n" +
		// More bad rows than a scan's result carries: the rest go to a file.
		strings.Repeat("A-2,Globex,2026-11-16,li.wei,52000,80,1.7\n", 250)
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	scan(t, c, cfg, file)

	info, err := os.Stat(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o700 {
		t.Errorf("data dir %s has mode %v, want 0700", dataDir, perm)
	}
	var files []string
	err = filepath.WalkDir(dataDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if perm := info.Mode().Perm(); perm&0o077 != 0 {
			t.Errorf("%s has mode %v: readable beyond its owner", path, perm)
		}
		if !d.IsDir() {
			files = append(files, filepath.Base(path))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"churnwatch.db", "churnwatch.db-wal", "temporal.db", "temporal.db-wal"} {
		found := false
		for _, f := range files {
			found = found || f == want
		}
		if !found {
			t.Errorf("the data dir holds %v, no %s: the test did not see it", files, want)
		}
	}
	if matches, _ := filepath.Glob(filepath.Join(dataDir, "rejected", "*.csv")); len(matches) == 0 {
		t.Errorf("no rejections file in %s/rejected: the test did not see one written", dataDir)
	}
}
