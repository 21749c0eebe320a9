package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/churnwatch/churnwatch/identity"
	"github.com/churnwatch/churnwatch/store"
)

// usersCLI runs `starter users ...` against the record in dir, with stdin
// as the password input.
type usersCLI struct {
	t   *testing.T
	dir string
	all bytes.Buffer // everything printed, to check no secret leaks
}

func newUsersCLI(t *testing.T) *usersCLI {
	old, oldCost := passwordInput, identity.PasswordCost
	identity.PasswordCost = bcrypt.MinCost // speed; the cost is not under test
	t.Cleanup(func() { passwordInput, identity.PasswordCost = old, oldCost })
	return &usersCLI{t: t, dir: t.TempDir()}
}

func (c *usersCLI) run(stdin string, args ...string) (stdout, stderr string, code int) {
	c.t.Helper()
	passwordInput = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	full := append([]string{"users"}, args...)
	full = append(full, "--data-dir", c.dir, "--store-dsn", "")
	code = run(full, &out, &errOut)
	c.all.WriteString(out.String() + errOut.String())
	return out.String(), errOut.String(), code
}

// must runs a command that has to succeed.
func (c *usersCLI) must(stdin string, args ...string) string {
	c.t.Helper()
	out, errOut, code := c.run(stdin, args...)
	if code != 0 {
		c.t.Fatalf("users %v: exit %d: %s", args, code, errOut)
	}
	return out
}

func (c *usersCLI) store() store.Store {
	c.t.Helper()
	st, err := store.Open(context.Background(), "", c.dir)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { st.Close() })
	return st
}

const (
	moPassword   = "mo's long secret 1"
	danaPassword = "dana-correct-horse"
)

func TestUsersAddListAndPassword(t *testing.T) {
	c := newUsersCLI(t)
	c.must(moPassword+"\n", "add", "mo", "--role", "manager", "--email", "mo@example.com", "--password-stdin")
	c.must(danaPassword+"\r\n", "add", "dana", "--role", "csm", "--manager", "mo", "--password-stdin")
	c.must("", "add", "sso-sam", "--role", "leader", "--sso-only")

	for _, f := range []struct {
		stdin string
		args  []string
		code  int
		msg   string
	}{
		{danaPassword, []string{"add", "dana", "--role", "csm", "--password-stdin"}, 1, "already exists"},
		{danaPassword, []string{"add", "kim", "--role", "boss", "--password-stdin"}, 2, "csm, manager, leader, admin"},
		{danaPassword, []string{"add", "kim", "--role", "csm", "--manager", "nobody", "--password-stdin"}, 1, "no such user"},
		{danaPassword, []string{"add", "kim", "--role", "csm", "--manager", "dana", "--password-stdin"}, 1, "a csm cannot manage"},
		{danaPassword, []string{"add", "kim lee", "--role", "csm", "--password-stdin"}, 2, "whitespace"},
		{danaPassword, []string{"add", "kim", "--role", "csm", "--email", "not an address", "--password-stdin"}, 2, "--email"},
		{danaPassword, []string{"add", "kim", "--role", "csm"}, 2, "--password-stdin"},
		{danaPassword, []string{"add", "kim", "--role", "csm", "--password-stdin", "--sso-only"}, 2, "exactly one"},
		{"short\n", []string{"add", "kim", "--role", "csm", "--password-stdin"}, 2, "at least 10"},
		{"", []string{"add", "kim", "--role", "csm", "--password-stdin"}, 2, "no password"},
		{"", []string{"add", "--role", "csm", "--sso-only"}, 2, "NAME"},
		{"", []string{"remove", "dana"}, 2, "unknown subcommand"},
		{danaPassword, []string{"password", "dana"}, 2, "--password-stdin is required"},
		{danaPassword, []string{"password", "nobody", "--password-stdin"}, 1, "no user named nobody"},
	} {
		if _, errOut, code := c.run(f.stdin, f.args...); code != f.code || !strings.Contains(errOut, f.msg) {
			t.Errorf("users %v: exit %d, stderr %q; want %d and %q", f.args, code, errOut, f.code, f.msg)
		}
	}

	var users []map[string]any
	if err := json.Unmarshal([]byte(c.must("", "list", "--json")), &users); err != nil {
		t.Fatal(err)
	}
	if len(users) != 3 || users[0]["name"] != "dana" || users[0]["manager"] != "mo" || users[1]["email"] != "mo@example.com" || users[2]["role"] != "leader" {
		t.Errorf("list --json: %v", users)
	}
	for _, u := range users {
		for k := range u {
			if strings.Contains(k, "hash") || strings.Contains(k, "password") {
				t.Errorf("list --json shows %s", k)
			}
		}
	}
	if table := c.must("", "list"); !strings.Contains(table, "NAME") || !strings.Contains(table, "sso-sam") {
		t.Errorf("list:\n%s", table)
	}

	st := c.store()
	if h, _ := st.PasswordHash(context.Background(), "dana"); !identity.CheckPassword(h, danaPassword) {
		t.Error("dana's password (given with \\r\\n) does not check")
	}
	if h, _ := st.PasswordHash(context.Background(), "sso-sam"); h != "" {
		t.Error("an --sso-only user has a password")
	}
	c.must("a brand new password\n", "password", "dana", "--password-stdin")
	if h, _ := st.PasswordHash(context.Background(), "dana"); !identity.CheckPassword(h, "a brand new password") {
		t.Error("the changed password does not check")
	}
	for _, secret := range []string{moPassword, danaPassword, "a brand new password", "$2a$"} {
		if strings.Contains(c.all.String(), secret) {
			t.Errorf("the output shows %q", secret)
		}
	}
}

func TestUsersTokenAndDisable(t *testing.T) {
	c := newUsersCLI(t)
	c.must(danaPassword, "add", "dana", "--role", "csm", "--password-stdin")
	plain := strings.TrimSpace(c.must("", "token", "dana"))
	if !strings.HasPrefix(plain, "cwt_") || strings.Contains(plain, "\n") {
		t.Fatalf("token output %q", plain)
	}
	st := c.store()
	if u, err := st.UserByToken(context.Background(), identity.HashToken(plain)); err != nil || u.Name != "dana" {
		t.Fatalf("UserByToken = %+v, %v", u, err)
	}

	c.must("", "disable", "dana")
	if _, errOut, code := c.run("", "token", "dana"); code != 1 || !strings.Contains(errOut, "disabled") {
		t.Errorf("token for a disabled user: exit %d, %q", code, errOut)
	}
	if u, _ := st.User(context.Background(), "dana"); !u.Disabled {
		t.Error("dana is not disabled")
	}
	c.must("", "enable", "dana")
	if u, _ := st.User(context.Background(), "dana"); u.Disabled {
		t.Error("dana is still disabled")
	}
	for _, args := range [][]string{{"token", "nobody"}, {"disable", "nobody"}} {
		if _, errOut, code := c.run("", args...); code != 1 || !strings.Contains(errOut, "no user named") {
			t.Errorf("users %v: exit %d, %q", args, code, errOut)
		}
	}
	if strings.Contains(c.all.String(), identity.HashToken(plain)) {
		t.Error("the output shows the token's hash")
	}
}
