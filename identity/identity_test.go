package identity

import (
	"encoding/base64"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func init() { PasswordCost = bcrypt.MinCost } // speed; the cost is not under test

func TestPasswordHashAndCheck(t *testing.T) {
	const pw = "correct horse battery"
	h, err := HashPassword(pw)
	if err != nil {
		t.Fatal(err)
	}
	if h == pw || !strings.HasPrefix(h, "$2") {
		t.Fatalf("hash %q is not a bcrypt hash", h)
	}
	if !CheckPassword(h, pw) {
		t.Error("the right password is refused")
	}
	if CheckPassword(h, "correct horse battery!") || CheckPassword(h, "") {
		t.Error("a wrong password is accepted")
	}
	if CheckPassword("", pw) {
		t.Error("an empty hash (single-sign-on user) accepts a password")
	}
	h2, _ := HashPassword(pw)
	if h2 == h {
		t.Error("two hashes of one password are equal: no salt")
	}
	CheckNoUser(pw) // must not panic, whatever the cost
}

func TestPasswordBounds(t *testing.T) {
	for _, c := range []struct {
		pw, msg string
	}{
		{"", "at least 10"},
		{"short", "at least 10"},
		{"ünïcödé99", "at least 10"}, // 9 characters, more bytes
		{strings.Repeat("x", 73), "at most 72"},
	} {
		if _, err := HashPassword(c.pw); err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("HashPassword(%q): %v, want an error with %q", c.pw, err, c.msg)
		}
	}
	for _, pw := range []string{"0123456789", strings.Repeat("y", 72)} {
		if _, err := HashPassword(pw); err != nil {
			t.Errorf("HashPassword of %d bytes: %v", len(pw), err)
		}
	}
}

func TestToken(t *testing.T) {
	plain, hash, err := NewToken()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(plain, "cwt_") {
		t.Fatalf("token %q lacks the cwt_ prefix", plain)
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(plain, "cwt_"))
	if err != nil || len(raw) != 32 {
		t.Fatalf("token body: %d bytes, %v", len(raw), err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(hash) || hash != HashToken(plain) {
		t.Fatalf("hash %q is not HashToken's hex sha256", hash)
	}
	// sha256("abc") from FIPS 180-2, so the stored form is pinned.
	if got := HashToken("abc"); got != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Errorf("HashToken(abc) = %s", got)
	}
	other, _, _ := NewToken()
	if other == plain {
		t.Error("two tokens are equal")
	}
}

func TestRolesAndNames(t *testing.T) {
	for _, r := range Roles {
		if got, err := ParseRole(string(r)); err != nil || got != r {
			t.Errorf("ParseRole(%s) = %s, %v", r, got, err)
		}
	}
	if _, err := ParseRole("owner"); err == nil || !strings.Contains(err.Error(), "csm, manager, leader, admin") {
		t.Errorf("ParseRole(owner): %v", err)
	}
	for _, ok := range []string{"dana", "dana.lee@example.com", "Zoë", strings.Repeat("a", 100)} {
		if err := ValidName(ok); err != nil {
			t.Errorf("ValidName(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "dana lee", "dana\t", "team/dana", "dana\x00", "\u00a0dana", strings.Repeat("a", 101), "\xff"} {
		if err := ValidName(bad); err == nil {
			t.Errorf("ValidName(%q) accepted", bad)
		}
	}
}

func TestAuthority(t *testing.T) {
	dana := User{Name: "dana", Role: CSM, Manager: "mo"}
	mo := User{Name: "mo", Role: Manager}
	kim := User{Name: "kim", Role: Manager} // manages another team
	lee := User{Name: "lee", Role: Leader}
	ada := User{Name: "ada", Role: Admin}
	eve := User{Name: "eve", Role: CSM, Manager: "mo"}
	disabled := func(u User) User { u.Disabled = true; return u }
	for _, c := range []struct {
		name          string
		u             User
		owner, ownMgr string
		want          string
	}{
		{"owner", dana, "dana", "mo", "owner"},
		{"owner without a manager", dana, "dana", "", "owner"},
		{"another csm", eve, "dana", "mo", ""},
		{"their manager", mo, "dana", "mo", "manager"},
		{"manager of another team", kim, "dana", "mo", ""},
		{"manager, no manager recorded", kim, "dana", "", ""},
		{"manager owns it", mo, "mo", "", "owner"},
		{"leader", lee, "dana", "mo", "leader"},
		{"admin", ada, "dana", "mo", "admin"},
		{"csm named as manager", User{Name: "mo", Role: CSM}, "dana", "mo", ""},
		{"disabled owner", disabled(dana), "dana", "mo", ""},
		{"disabled manager", disabled(mo), "dana", "mo", ""},
		{"disabled leader", disabled(lee), "dana", "mo", ""},
		{"disabled admin", disabled(ada), "dana", "mo", ""},
		{"nameless", User{Role: CSM}, "", "", ""},
	} {
		got, ok := c.u.Authority(c.owner, c.ownMgr)
		if got != c.want || ok != (c.want != "") {
			t.Errorf("%s: Authority = %q, %v; want %q", c.name, got, ok, c.want)
		}
	}
	if dana.SeesAll() || mo.SeesAll() || !lee.SeesAll() || !ada.SeesAll() {
		t.Error("SeesAll: want leader and admin only")
	}
	if lee.ManagesUsers() || !ada.ManagesUsers() {
		t.Error("ManagesUsers: want admin only")
	}
}
