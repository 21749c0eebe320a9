package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/churnwatch/churnwatch/identity"
)

// userCols are the columns scanUser reads, in its order. The password hash
// is never among them: it is read only by PasswordHash.
const userCols = `name, role, manager, email, disabled, created_at`

// rowScanner is a *sql.Row or *sql.Rows.
type rowScanner interface{ Scan(dest ...any) error }

func scanUser(r rowScanner) (identity.User, error) {
	var u identity.User
	var role string
	if err := r.Scan(&u.Name, &role, &u.Manager, &u.Email, &u.Disabled, dbTime{&u.CreatedAt}); err != nil {
		return identity.User{}, err
	}
	u.Role = identity.Role(role)
	return u, nil
}

func (s *sqlStore) AddUser(ctx context.Context, u identity.User, passwordHash string) error {
	if err := identity.ValidName(u.Name); err != nil {
		return fmt.Errorf("add user: %w", err)
	}
	if _, err := identity.ParseRole(string(u.Role)); err != nil {
		return fmt.Errorf("add user %s: %w", u.Name, err)
	}
	if u.CreatedAt.IsZero() {
		u.CreatedAt = time.Now()
	}
	at := s.d.timeArg(u.CreatedAt)
	defer s.lockWrites()()
	// ON CONFLICT DO NOTHING rather than catching each driver's unique
	// violation: no affected row means the name is taken.
	res, err := s.db.ExecContext(ctx, `INSERT INTO users
			(name, role, manager, email, password_hash, disabled, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (name) DO NOTHING`,
		u.Name, string(u.Role), u.Manager, u.Email, passwordHash, u.Disabled, at, at)
	if err != nil {
		return fmt.Errorf("add user %s: %w", u.Name, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("add user %s: %w", u.Name, err)
	} else if n == 0 {
		return fmt.Errorf("add user %s: %w", u.Name, ErrExists)
	}
	return nil
}

func (s *sqlStore) User(ctx context.Context, name string) (identity.User, error) {
	u, err := scanUser(s.db.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE name = $1`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return identity.User{}, fmt.Errorf("user %s: %w", name, ErrNotFound)
	} else if err != nil {
		return identity.User{}, fmt.Errorf("user %s: %w", name, err)
	}
	return u, nil
}

func (s *sqlStore) Users(ctx context.Context) ([]identity.User, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+userCols+` FROM users ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("users: %w", err)
	}
	defer rows.Close()
	var out []identity.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("users: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("users: %w", err)
	}
	return out, nil
}

func (s *sqlStore) PasswordHash(ctx context.Context, name string) (string, error) {
	var hash string
	err := s.db.QueryRowContext(ctx, `SELECT password_hash FROM users WHERE name = $1`, name).Scan(&hash)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("password of %s: %w", name, ErrNotFound)
	} else if err != nil {
		return "", fmt.Errorf("password of %s: %w", name, err)
	}
	return hash, nil
}

func (s *sqlStore) SetPassword(ctx context.Context, name, hash string) error {
	return s.updateUser(ctx, "set password of "+name, `UPDATE users SET password_hash = $1, updated_at = $2 WHERE name = $3`,
		hash, s.d.timeArg(time.Now()), name)
}

func (s *sqlStore) SetUserDisabled(ctx context.Context, name string, disabled bool) error {
	what := "enable user " + name
	if disabled {
		what = "disable user " + name
	}
	return s.updateUser(ctx, what, `UPDATE users SET disabled = $1, updated_at = $2 WHERE name = $3`,
		disabled, s.d.timeArg(time.Now()), name)
}

func (s *sqlStore) SetRole(ctx context.Context, name string, role identity.Role) error {
	if _, err := identity.ParseRole(string(role)); err != nil {
		return fmt.Errorf("set the role of %s: %w", name, err)
	}
	return s.updateUser(ctx, "set the role of "+name, `UPDATE users SET role = $1, updated_at = $2 WHERE name = $3`,
		string(role), s.d.timeArg(time.Now()), name)
}

// updateUser runs an UPDATE of one user, wrapping ErrNotFound when it
// matched no row.
func (s *sqlStore) updateUser(ctx context.Context, what, query string, args ...any) error {
	defer s.lockWrites()()
	res, err := s.db.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	} else if n == 0 {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return nil
}

func (s *sqlStore) AddToken(ctx context.Context, name, tokenHash string, at time.Time) error {
	if tokenHash == "" {
		return fmt.Errorf("add token of %s: empty token hash", name)
	}
	defer s.lockWrites()()
	// Selecting from users makes an unknown name insert nothing, which
	// reads the same in both dialects (unlike their foreign key errors).
	res, err := s.db.ExecContext(ctx, `INSERT INTO api_tokens (token_hash, user_name, created_at)
		SELECT $1, name, $2 FROM users WHERE name = $3`,
		tokenHash, s.d.timeArg(at), name)
	if err != nil {
		return fmt.Errorf("add token of %s: %w", name, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("add token of %s: %w", name, err)
	} else if n == 0 {
		return fmt.Errorf("add token of %s: user %w", name, ErrNotFound)
	}
	return nil
}

func (s *sqlStore) UserByToken(ctx context.Context, tokenHash string) (identity.User, error) {
	// The hash is not in the errors: it is as good as the token to anyone
	// who can replay it against a copy of the record.
	u, err := scanUser(s.db.QueryRowContext(ctx, `SELECT u.name, u.role, u.manager, u.email, u.disabled, u.created_at
		FROM api_tokens t JOIN users u ON u.name = t.user_name WHERE t.token_hash = $1`, tokenHash))
	if errors.Is(err, sql.ErrNoRows) {
		return identity.User{}, fmt.Errorf("api token: %w", ErrNotFound)
	} else if err != nil {
		return identity.User{}, fmt.Errorf("api token: %w", err)
	}
	return u, nil
}

func (s *sqlStore) TeamOf(ctx context.Context, manager string) ([]string, error) {
	if manager == "" {
		return nil, nil // "" means no manager, not a team
	}
	rows, err := s.db.QueryContext(ctx, `SELECT name FROM users WHERE manager = $1 ORDER BY name`, manager)
	if err != nil {
		return nil, fmt.Errorf("team of %s: %w", manager, err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("team of %s: %w", manager, err)
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("team of %s: %w", manager, err)
	}
	return names, nil
}

// The session methods back the web layer's scs.Store. Errors never name the
// session token: it is a bearer credential.

func (s *sqlStore) FindSession(ctx context.Context, token string) ([]byte, bool, error) {
	var data []byte
	err := s.db.QueryRowContext(ctx, `SELECT data FROM sessions WHERE token = $1 AND expiry > $2`,
		token, s.d.timeArg(time.Now())).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	} else if err != nil {
		return nil, false, fmt.Errorf("find session: %w", err)
	}
	return data, true, nil
}

func (s *sqlStore) CommitSession(ctx context.Context, token string, data []byte, expiry time.Time) error {
	if data == nil {
		data = []byte{} // a nil slice would bind as NULL
	}
	defer s.lockWrites()()
	_, err := s.db.ExecContext(ctx, `INSERT INTO sessions (token, data, expiry) VALUES ($1, $2, $3)
		ON CONFLICT (token) DO UPDATE SET data = excluded.data, expiry = excluded.expiry`,
		token, data, s.d.timeArg(expiry))
	if err != nil {
		return fmt.Errorf("commit session: %w", err)
	}
	return nil
}

func (s *sqlStore) DeleteSession(ctx context.Context, token string) error {
	defer s.lockWrites()()
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE token = $1`, token); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

func (s *sqlStore) DeleteExpiredSessions(ctx context.Context) (int, error) {
	defer s.lockWrites()()
	res, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE expiry <= $1`, s.d.timeArg(time.Now()))
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	return int(n), nil
}
