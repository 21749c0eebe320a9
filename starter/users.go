package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"github.com/churnwatch/churnwatch/config"
	"github.com/churnwatch/churnwatch/identity"
	"github.com/churnwatch/churnwatch/store"
)

// passwordInput is where --password-stdin reads; tests replace it.
var passwordInput io.Reader = os.Stdin

// runUsers manages the local users. It acts on the decision record
// directly, so an administrator can add the first user before any worker
// (and any sign-in page) runs.
func runUsers(ctx context.Context, args []string, out io.Writer) error {
	sub, rest, err := splitSub(args, "add", "list", "disable", "enable", "password", "token")
	if err != nil {
		return err
	}
	switch sub {
	case "add":
		return usersAdd(ctx, rest, out)
	case "list":
		return usersList(ctx, rest, out)
	case "disable", "enable":
		return usersSetDisabled(ctx, sub, rest, out)
	case "password":
		return usersPassword(ctx, rest, out)
	default:
		return usersToken(ctx, rest, out)
	}
}

// usersArg parses a users subcommand's flags and its one NAME argument.
func usersArg(fs *pflag.FlagSet, args []string) (string, error) {
	if err := parseFlags(fs, args); err != nil {
		return "", usageError(err)
	}
	if fs.NArg() != 1 {
		return "", usageError(fmt.Errorf("want one user NAME, got %d arguments", fs.NArg()))
	}
	name := fs.Arg(0)
	if err := identity.ValidName(name); err != nil {
		return "", usageError(err)
	}
	return name, nil
}

// openRecord opens the decision record the configuration names.
func openRecord(ctx context.Context, fs *pflag.FlagSet) (store.Store, error) {
	cfg, err := config.Load(fs)
	if err != nil {
		return nil, err
	}
	return store.Open(ctx, cfg.Store.DSN, cfg.DataDir)
}

// readPassword reads the first line of passwordInput and checks it. The
// password never appears in an error.
func readPassword() (string, error) {
	line, err := bufio.NewReader(passwordInput).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the password from stdin: %w", err)
	}
	pw := strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if pw == "" {
		return "", usageError(errors.New("--password-stdin: stdin holds no password"))
	}
	if err := identity.ValidPassword(pw); err != nil {
		return "", usageError(err)
	}
	return pw, nil
}

// hashStdinPassword reads a password and hashes it.
func hashStdinPassword() (string, error) {
	pw, err := readPassword()
	if err != nil {
		return "", err
	}
	return identity.HashPassword(pw)
}

// usersAdd adds a user: starter users add NAME --role R [--manager M]
// [--email E] --password-stdin | --sso-only.
func usersAdd(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlagSet("users add")
	roleFlag := fs.String("role", "", "csm, manager, leader or admin")
	manager := fs.String("manager", "", "the user's manager (a manager, leader or admin)")
	email := fs.String("email", "", "the user's email address")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of stdin")
	ssoOnly := fs.Bool("sso-only", false, "no password: the user signs in only through single sign-on")
	name, err := usersArg(fs, args)
	if err != nil {
		return err
	}
	role, err := identity.ParseRole(*roleFlag)
	if err != nil {
		return usageError(fmt.Errorf("--role: %w", err))
	}
	if *email != "" {
		if a, err := mail.ParseAddress(*email); err != nil || a.Address != *email {
			return usageError(fmt.Errorf("--email %q is not a plain email address (name@example.com)", *email))
		}
	}
	if *manager != "" {
		if err := identity.ValidName(*manager); err != nil {
			return usageError(fmt.Errorf("--manager: %w", err))
		}
	}
	if *fromStdin == *ssoOnly {
		return usageError(errors.New("give exactly one of --password-stdin and --sso-only"))
	}
	hash := "" // --sso-only: no password sign-in
	if *fromStdin {
		if hash, err = hashStdinPassword(); err != nil {
			return err
		}
	}
	st, err := openRecord(ctx, fs)
	if err != nil {
		return err
	}
	defer st.Close()
	if *manager != "" {
		if err := checkManager(ctx, st, *manager); err != nil {
			return err
		}
	}
	u := identity.User{Name: name, Role: role, Manager: *manager, Email: *email, CreatedAt: time.Now().UTC()}
	if err := st.AddUser(ctx, u, hash); errors.Is(err, store.ErrExists) {
		return fmt.Errorf("user %s already exists (change a password with `starter users password`)", name)
	} else if err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "added %s (%s)\n", name, role)
	return err
}

// checkManager refuses a --manager who is not a user able to manage.
func checkManager(ctx context.Context, st store.Store, name string) error {
	m, err := st.User(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("--manager %s: no such user (add the manager first)", name)
	} else if err != nil {
		return err
	}
	if m.Role == identity.CSM {
		return fmt.Errorf("--manager %s: a csm cannot manage; their role must be manager, leader or admin", name)
	}
	return nil
}

// usersList prints the users, never their hashes.
func usersList(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlagSet("users list")
	asJSON := fs.Bool("json", false, "print a JSON array of users")
	if err := parseFlags(fs, args); err != nil {
		return usageError(err)
	}
	if fs.NArg() > 0 {
		return usageError(fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	st, err := openRecord(ctx, fs)
	if err != nil {
		return err
	}
	defer st.Close()
	users, err := st.Users(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(append([]identity.User{}, users...)) // [] rather than null
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLE\tMANAGER\tEMAIL\tSTATUS\tCREATED")
	for _, u := range users {
		status := "active"
		if u.Disabled {
			status = "disabled"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", u.Name, u.Role, dash(u.Manager), dash(u.Email), status, u.CreatedAt.Format(time.DateOnly))
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// usersSetDisabled disables or re-enables a user. A disabled user keeps
// their record and tokens but can neither sign in nor use a token.
func usersSetDisabled(ctx context.Context, verb string, args []string, out io.Writer) error {
	fs := newFlagSet("users " + verb)
	name, err := usersArg(fs, args)
	if err != nil {
		return err
	}
	st, err := openRecord(ctx, fs)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := noUser(st.SetUserDisabled(ctx, name, verb == "disable"), name); err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "%sd %s\n", verb, name)
	return err
}

// usersPassword replaces a user's password with one read from stdin.
func usersPassword(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlagSet("users password")
	fromStdin := fs.Bool("password-stdin", false, "read the new password from the first line of stdin")
	name, err := usersArg(fs, args)
	if err != nil {
		return err
	}
	if !*fromStdin {
		return usageError(errors.New("--password-stdin is required: the password is never an argument"))
	}
	hash, err := hashStdinPassword()
	if err != nil {
		return err
	}
	st, err := openRecord(ctx, fs)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := noUser(st.SetPassword(ctx, name, hash), name); err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "changed the password of %s\n", name)
	return err
}

// usersToken prints a new API token for a user. Only its hash is stored,
// so this is the one time it can be seen.
func usersToken(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlagSet("users token")
	name, err := usersArg(fs, args)
	if err != nil {
		return err
	}
	st, err := openRecord(ctx, fs)
	if err != nil {
		return err
	}
	defer st.Close()
	u, err := st.User(ctx, name)
	if err := noUser(err, name); err != nil {
		return err
	}
	if u.Disabled {
		return fmt.Errorf("user %s is disabled: enable them first (starter users enable %s)", name, name)
	}
	plain, hash, err := identity.NewToken()
	if err != nil {
		return err
	}
	if err := st.AddToken(ctx, name, hash, time.Now()); err != nil {
		return err
	}
	_, err = fmt.Fprintln(out, plain)
	return err
}

// noUser says which user a store call did not find; other errors, and
// none, pass through.
func noUser(err error, name string) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no user named %s", name)
	}
	return err
}
