// Package identity holds Churnwatch's people: local users and their roles,
// password hashing, API tokens and who may decide which review. It is pure:
// the store keeps users and the web layer signs them in, both through here.
package identity

import (
	"errors"
	"fmt"
	"time"
	"unicode"
	"unicode/utf8"
)

// Role is what a user may see and decide.
type Role string

const (
	CSM     Role = "csm"     // decides the reviews of the accounts they own
	Manager Role = "manager" // also decides the reviews of their team
	Leader  Role = "leader"  // sees and decides every review
	Admin   Role = "admin"   // a leader who also manages users
)

// Roles lists the roles, least authority first.
var Roles = []Role{CSM, Manager, Leader, Admin}

// ParseRole reads a role name as the CLI and the configuration spell it.
func ParseRole(s string) (Role, error) {
	for _, r := range Roles {
		if s == string(r) {
			return r, nil
		}
	}
	return "", fmt.Errorf("role %q is not one of csm, manager, leader, admin", s)
}

// User is one person who signs in. Name is what the snapshots' owner
// column holds, so a CSM's reviews are found by it.
type User struct {
	Name      string    `json:"name"`
	Role      Role      `json:"role"`
	Manager   string    `json:"manager,omitempty"` // the manager of a csm, may be ""
	Email     string    `json:"email,omitempty"`
	Disabled  bool      `json:"disabled"`
	CreatedAt time.Time `json:"created_at"`
}

// maxNameBytes bounds a name; owners are short, and the bound keeps a
// name usable in a URL path and a log line.
const maxNameBytes = 100

// ValidName checks a user name. Whitespace and '/' are refused because a
// name appears in URL paths and in the owner column, where either would
// make two spellings of one person.
func ValidName(name string) error {
	if name == "" {
		return errors.New("empty user name")
	}
	if len(name) > maxNameBytes {
		return fmt.Errorf("user name is %d bytes, longer than %d", len(name), maxNameBytes)
	}
	if !utf8.ValidString(name) {
		return fmt.Errorf("user name %q is not valid UTF-8", name)
	}
	for _, r := range name {
		switch {
		case r == '/':
			return fmt.Errorf("user name %q contains '/'", name)
		case unicode.IsSpace(r):
			return fmt.Errorf("user name %q contains whitespace", name)
		case unicode.IsControl(r):
			return fmt.Errorf("user name %q contains a control character", name)
		}
	}
	return nil
}

// Authority says on what grounds u may decide a review owned by owner
// whose manager (as the record holds it) is ownerManager: "owner",
// "leader", "admin" or "manager". The reason is recorded with the
// decision, so an audit shows why it was allowed.
func (u User) Authority(owner, ownerManager string) (string, bool) {
	switch {
	case u.Disabled || u.Name == "":
		return "", false
	case u.Name == owner:
		return "owner", true
	case u.Role == Leader:
		return "leader", true
	case u.Role == Admin:
		return "admin", true
	case u.Role == Manager && ownerManager != "" && u.Name == ownerManager:
		return "manager", true
	}
	return "", false
}

// SeesAll says whether u sees every review, not only their own and their team's.
func (u User) SeesAll() bool { return u.Role == Leader || u.Role == Admin }

// ManagesUsers says whether u may add, disable and change users.
func (u User) ManagesUsers() bool { return u.Role == Admin }
