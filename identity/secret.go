package identity

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// PasswordCost is the bcrypt cost of new password hashes. Tests lower it
// to bcrypt.MinCost; a check always uses the cost stored in the hash.
var PasswordCost = 11

// Password length bounds. bcrypt reads at most 72 bytes and silently
// ignores the rest, so a longer password is refused rather than truncated.
const (
	MinPasswordChars = 10
	MaxPasswordBytes = 72
)

// ValidPassword refuses a password too short to resist guessing or too
// long for bcrypt. The error never quotes the password.
func ValidPassword(pw string) error {
	if n := utf8.RuneCountInString(pw); n < MinPasswordChars {
		return fmt.Errorf("password is %d characters; it needs at least %d", n, MinPasswordChars)
	}
	if len(pw) > MaxPasswordBytes {
		return fmt.Errorf("password is %d bytes; bcrypt uses at most %d", len(pw), MaxPasswordBytes)
	}
	return nil
}

// HashPassword returns the bcrypt hash of pw, refusing a password that
// ValidPassword refuses.
func HashPassword(pw string) (string, error) {
	if err := ValidPassword(pw); err != nil {
		return "", err
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), PasswordCost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// CheckPassword says whether pw matches hash. An empty hash (a user who
// signs in only through single sign-on) matches nothing.
func CheckPassword(hash, pw string) bool {
	if hash == "" {
		CheckNoUser(pw)
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)) == nil
}

// dummy is the hash CheckNoUser compares against, made at the current
// PasswordCost (and remade if a test changes it).
var dummy struct {
	sync.Mutex
	cost int
	hash []byte
}

// CheckNoUser spends the time of a real check against a fixed hash at
// PasswordCost, so that a sign-in for an unknown name takes as long as one
// with a wrong password and does not reveal which names exist.
func CheckNoUser(pw string) {
	dummy.Lock()
	if dummy.hash == nil || dummy.cost != PasswordCost {
		h, err := bcrypt.GenerateFromPassword([]byte("churnwatch-no-such-user"), PasswordCost)
		if err != nil {
			h, _ = bcrypt.GenerateFromPassword([]byte("churnwatch-no-such-user"), bcrypt.DefaultCost)
		}
		dummy.cost, dummy.hash = PasswordCost, h
	}
	h := dummy.hash
	dummy.Unlock()
	_ = bcrypt.CompareHashAndPassword(h, []byte(pw))
}

// TokenPrefix starts every API token, so a leaked one is easy to recognise
// (and to search for in logs and repositories).
const TokenPrefix = "cwt_"

// NewToken returns a new API token and the hash to store. Only the hash is
// kept: the plain token is shown once to its user.
func NewToken() (plain, hash string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("new token: %w", err)
	}
	plain = TokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	return plain, HashToken(plain), nil
}

// HashToken is the stored form of a token: hex SHA-256. A token carries 256
// random bits, so a fast hash is enough; a slow one would only slow every
// API call.
func HashToken(plain string) string {
	sum := sha256.Sum256([]byte(plain))
	return hex.EncodeToString(sum[:])
}
