package store

import (
	"context"
	"testing"
)

// TestPing: a writable record answers, again and again, and the row Ping
// writes is no session a sign-in can find; the hourly sweep removes it.
func TestPing(t *testing.T) {
	ctx := context.Background()
	locations := map[string]func(t *testing.T) (string, string){
		"sqlite":   func(t *testing.T) (string, string) { return "", t.TempDir() },
		"postgres": func(t *testing.T) (string, string) { return postgresLocation(t) },
	}
	for name, location := range locations {
		t.Run(name, func(t *testing.T) {
			dsn, dir := location(t)
			st := mustOpen(t, dsn, dir)
			for range 2 {
				if err := st.Ping(ctx); err != nil {
					t.Fatalf("ping: %v", err)
				}
			}
			if _, found, err := st.FindSession(ctx, pingToken); err != nil || found {
				t.Fatalf("the ping row is a live session: found %v, %v", found, err)
			}
			if n, err := st.DeleteExpiredSessions(ctx); err != nil || n != 1 {
				t.Fatalf("expired sessions swept: %d, %v; want the ping row", n, err)
			}
			st.Close()
			if err := st.Ping(ctx); err == nil {
				t.Fatal("a closed record answered the ping")
			}
		})
	}
}
