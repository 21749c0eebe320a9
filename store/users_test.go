package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/churnwatch/churnwatch/identity"
)

// The user suite runs against both backends, like testStore; `-run
// TestSQLite` and `-run TestPostgres` select it with the rest.

func TestSQLiteUsers(t *testing.T) {
	testUsers(t, func(t *testing.T) (string, string) { return "", t.TempDir() })
}

func TestPostgresUsers(t *testing.T) {
	if os.Getenv(postgresDSNEnv) == "" {
		t.Skipf("PostgreSQL tests skipped: set %s=postgres://... (eval \"$(bash .ci/postgres.sh)\" starts one)", postgresDSNEnv)
	}
	testUsers(t, func(t *testing.T) (string, string) { return postgresLocation(t) })
}

func testUsers(t *testing.T, location func(t *testing.T) (dsn, dataDir string)) {
	ctx := context.Background()
	open := func(t *testing.T) Store {
		dsn, dir := location(t)
		return mustOpen(t, dsn, dir)
	}
	t.Run("AddAndRead", func(t *testing.T) { testAddUsers(t, ctx, open(t)) })
	t.Run("PasswordAndDisable", func(t *testing.T) { testPasswordAndDisable(t, ctx, open(t)) })
	t.Run("Tokens", func(t *testing.T) { testTokens(t, ctx, open(t)) })
	t.Run("Sessions", func(t *testing.T) { testSessions(t, ctx, open(t)) })
}

var (
	uMo   = identity.User{Name: "mo", Role: identity.Manager, Email: "mo@example.com", CreatedAt: t0}
	uDana = identity.User{Name: "dana", Role: identity.CSM, Manager: "mo", CreatedAt: t0}
	uEve  = identity.User{Name: "eve", Role: identity.CSM, Manager: "mo", CreatedAt: t0.Add(time.Hour)}
	uLee  = identity.User{Name: "lee", Role: identity.Leader, CreatedAt: t0}
)

func addUsers(t *testing.T, ctx context.Context, st Store, us ...identity.User) {
	t.Helper()
	for _, u := range us {
		if err := st.AddUser(ctx, u, "hash-of-"+u.Name); err != nil {
			t.Fatalf("AddUser %s: %v", u.Name, err)
		}
	}
}

func testAddUsers(t *testing.T, ctx context.Context, st Store) {
	addUsers(t, ctx, st, uMo, uEve, uDana, uLee)
	if err := st.AddUser(ctx, identity.User{Name: "dana", Role: identity.Admin}, ""); !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate AddUser: %v, want ErrExists", err)
	}
	if got, err := st.User(ctx, "dana"); err != nil || !reflect.DeepEqual(got, uDana) {
		t.Errorf("User(dana) = %+v, %v; want %+v (the duplicate must not overwrite)", got, err, uDana)
	}
	if _, err := st.User(ctx, "nobody"); !errors.Is(err, ErrNotFound) {
		t.Errorf("User(nobody): %v, want ErrNotFound", err)
	}
	for _, bad := range []identity.User{{Name: "", Role: identity.CSM}, {Name: "a b", Role: identity.CSM}, {Name: "x", Role: "boss"}} {
		if err := st.AddUser(ctx, bad, ""); err == nil {
			t.Errorf("AddUser(%+v) accepted", bad)
		}
	}
	all, err := st.Users(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := []identity.User{uDana, uEve, uLee, uMo}; !reflect.DeepEqual(all, want) {
		t.Errorf("Users =\n%+v\nwant\n%+v", all, want)
	}
	if team, err := st.TeamOf(ctx, "mo"); err != nil || !reflect.DeepEqual(team, []string{"dana", "eve"}) {
		t.Errorf("TeamOf(mo) = %v, %v", team, err)
	}
	for _, m := range []string{"lee", "nobody", ""} {
		if team, err := st.TeamOf(ctx, m); err != nil || len(team) != 0 {
			t.Errorf("TeamOf(%q) = %v, %v; want none", m, team, err)
		}
	}
}

func testPasswordAndDisable(t *testing.T, ctx context.Context, st Store) {
	addUsers(t, ctx, st, uDana)
	if err := st.AddUser(ctx, identity.User{Name: "sso", Role: identity.CSM}, ""); err != nil {
		t.Fatal(err)
	}
	if h, err := st.PasswordHash(ctx, "dana"); err != nil || h != "hash-of-dana" {
		t.Errorf("PasswordHash(dana) = %q, %v", h, err)
	}
	if h, err := st.PasswordHash(ctx, "sso"); err != nil || h != "" {
		t.Errorf("PasswordHash(sso) = %q, %v; want empty", h, err)
	}
	if _, err := st.PasswordHash(ctx, "nobody"); !errors.Is(err, ErrNotFound) {
		t.Errorf("PasswordHash(nobody): %v", err)
	}
	if err := st.SetPassword(ctx, "dana", "new-hash"); err != nil {
		t.Fatal(err)
	}
	if h, _ := st.PasswordHash(ctx, "dana"); h != "new-hash" {
		t.Errorf("after SetPassword: %q", h)
	}
	if err := st.SetPassword(ctx, "nobody", "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetPassword(nobody): %v", err)
	}
	for _, disabled := range []bool{true, false} {
		if err := st.SetUserDisabled(ctx, "dana", disabled); err != nil {
			t.Fatal(err)
		}
		if u, err := st.User(ctx, "dana"); err != nil || u.Disabled != disabled {
			t.Errorf("after SetUserDisabled(%v): %+v, %v", disabled, u, err)
		}
	}
	if err := st.SetUserDisabled(ctx, "nobody", true); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetUserDisabled(nobody): %v", err)
	}
	if err := st.SetRole(ctx, "dana", identity.Manager); err != nil {
		t.Fatal(err)
	}
	if u, _ := st.User(ctx, "dana"); u.Role != identity.Manager {
		t.Errorf("after SetRole: %s", u.Role)
	}
	if err := st.SetRole(ctx, "dana", "boss"); err == nil {
		t.Errorf("SetRole accepted an unknown role")
	}
	if err := st.SetRole(ctx, "nobody", identity.CSM); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetRole(nobody): %v", err)
	}
}

func testTokens(t *testing.T, ctx context.Context, st Store) {
	addUsers(t, ctx, st, uDana)
	_, hash, err := identity.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	if err := st.AddToken(ctx, "dana", hash, t0); err != nil {
		t.Fatal(err)
	}
	if err := st.AddToken(ctx, "nobody", identity.HashToken("other"), t0); !errors.Is(err, ErrNotFound) {
		t.Errorf("AddToken(nobody): %v", err)
	}
	if u, err := st.UserByToken(ctx, hash); err != nil || u.Name != "dana" {
		t.Errorf("UserByToken = %+v, %v", u, err)
	}
	if _, err := st.UserByToken(ctx, identity.HashToken("cwt_unknown")); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown token: %v", err)
	}
	if err := st.SetUserDisabled(ctx, "dana", true); err != nil {
		t.Fatal(err)
	}
	// The caller refuses a disabled user, so the store must say who it is.
	if u, err := st.UserByToken(ctx, hash); err != nil || u.Name != "dana" || !u.Disabled {
		t.Errorf("UserByToken of a disabled user = %+v, %v", u, err)
	}
}

func testSessions(t *testing.T, ctx context.Context, st Store) {
	now := time.Now()
	data := []byte("\x00binary\xffsession")
	if err := st.CommitSession(ctx, "live", data, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := st.CommitSession(ctx, "old", []byte("x"), now.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := st.CommitSession(ctx, "empty", nil, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := st.FindSession(ctx, "live"); err != nil || !ok || !bytes.Equal(got, data) {
		t.Errorf("FindSession(live) = %q, %v, %v", got, ok, err)
	}
	if got, ok, err := st.FindSession(ctx, "empty"); err != nil || !ok || len(got) != 0 {
		t.Errorf("FindSession(empty) = %q, %v, %v", got, ok, err)
	}
	for _, tok := range []string{"old", "unknown"} {
		if _, ok, err := st.FindSession(ctx, tok); err != nil || ok {
			t.Errorf("FindSession(%s): found %v, %v; want not found", tok, ok, err)
		}
	}
	// A commit replaces data and expiry: the old session comes back to life.
	if err := st.CommitSession(ctx, "old", []byte("renewed"), now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, ok, _ := st.FindSession(ctx, "old"); !ok || string(got) != "renewed" {
		t.Errorf("after renewal: %q, %v", got, ok)
	}
	if err := st.CommitSession(ctx, "live", data, now.Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if n, err := st.DeleteExpiredSessions(ctx); err != nil || n != 1 {
		t.Errorf("DeleteExpiredSessions = %d, %v; want 1", n, err)
	}
	if err := st.DeleteSession(ctx, "old"); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteSession(ctx, "unknown"); err != nil {
		t.Errorf("DeleteSession(unknown): %v", err)
	}
	for tok, want := range map[string]bool{"old": false, "live": false, "empty": true} {
		if _, ok, err := st.FindSession(ctx, tok); err != nil || ok != want {
			t.Errorf("at the end FindSession(%s): found %v, %v; want %v", tok, ok, err, want)
		}
	}
}
