// Package store keeps Churnwatch's decision record: the ingested snapshot
// batches, the scores, the decision packets and the append-only measurement
// events. It has two implementations behind one interface: an embedded SQLite
// file (the default, nothing to run) and PostgreSQL for production.
//
// Every write is keyed so that a retried Temporal activity never writes a row
// twice: batches by batch ID, scores by (account, week, config hash), packets
// by review ID and events by their idempotency key.
package store

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/churnwatch/churnwatch/identity"
	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/risk"
	"github.com/churnwatch/churnwatch/snapshot"
)

// ErrNotFound is returned when a looked-up record does not exist.
var ErrNotFound = errors.New("not found")

// ErrExists is returned when a record to add is already stored.
var ErrExists = errors.New("already exists")

// FileName is the SQLite file Open creates in the data directory.
const FileName = "churnwatch.db"

// Batch describes one ingest: the files read and when.
type Batch struct {
	ID          string    `json:"id"`
	SourceFiles []string  `json:"source_files"`
	IngestedAt  time.Time `json:"ingested_at"`
}

// ScoreRow is the headline of one stored assessment.
type ScoreRow struct {
	AccountID string
	Owner     string
	Tier      risk.Tier
	Score     int
	ARR       float64
}

// PacketFilter selects decision packets. Zero fields match everything.
type PacketFilter struct {
	AccountID string
	Owner     string
	State     review.State
	Cycle     string // exactly this cycle (YYYY-MM-DD)
	Since     string // cycles on or after this date (YYYY-MM-DD)
	Through   string // cycles on or before this date (YYYY-MM-DD)
}

// CycleCount is how many packets one review cycle holds.
type CycleCount struct {
	Cycle   string
	Packets int
}

// EventFilter selects measurement events. Zero fields match everything.
type EventFilter struct {
	ReviewID  string
	AccountID string
	Kinds     []review.EventKind
}

// Store is the decision record. Implementations are safe for concurrent use.
type Store interface {
	// SaveBatch stores an ingested batch and its snapshot rows. Snapshots are
	// immutable: saving a batch ID that is already stored writes nothing.
	SaveBatch(ctx context.Context, b Batch, rows []snapshot.Snapshot) error
	// BatchRows returns a stored batch's rows in the order they were saved.
	BatchRows(ctx context.Context, batchID string) ([]snapshot.Snapshot, error)
	// History returns the stored snapshots of the given accounts (all
	// accounts when none are given) for weeks on or before through
	// (YYYY-MM-DD), ordered by account and week. When batches overlap, the
	// row of the most recently ingested batch stands for its account and week.
	History(ctx context.Context, accountIDs []string, through string) ([]snapshot.Snapshot, error)
	// BatchAccounts returns, in order, the ids of the accounts with a row in
	// the batch for a week on or before through, from after (exclusive; ""
	// = the first) up to last (inclusive): one chunk of a scan, named by
	// its bounds so that the scan never carries the whole list.
	BatchAccounts(ctx context.Context, batchID, through, after, last string) ([]string, error)

	// SaveScores stores assessments; one per (account, as-of week, config
	// hash) is kept. A repeated one writes nothing, unless it was scored
	// from a batch ingested after the stored one's: then it replaces it (a
	// corrected week rescanned; see supersedeScores).
	SaveScores(ctx context.Context, batchID string, as []risk.Assessment) error
	// LatestScores returns, per account, the most recent stored assessment
	// whose week is strictly before the given YYYY-MM-DD date: the previous
	// scan, for "crossed since the last scan". Naming accounts limits the
	// lookup to them (much cheaper on a long history); none means all.
	LatestScores(ctx context.Context, before string, accountIDs ...string) (map[string]risk.Assessment, error)
	// ScoresAsOf returns the assessments of one week, one per account (the
	// most recently saved configuration), ordered by account ID. Naming
	// accounts limits it to them.
	ScoresAsOf(ctx context.Context, week string, accountIDs ...string) ([]risk.Assessment, error)
	// ScoreRows is ScoresAsOf without the evidence: the few columns a tier
	// count needs, read without decoding every assessment.
	ScoreRows(ctx context.Context, week string) ([]ScoreRow, error)
	// ScoreStamp changes whenever a score of the week is saved (see the type).
	ScoreStamp(ctx context.Context, week string) (ScoreStamp, error)
	// Weeks lists the weeks that have scores, ascending.
	Weeks(ctx context.Context) ([]string, error)

	// SavePacket inserts or updates a decision packet by review ID. A packet
	// whose UpdatedAt is older than the stored one is ignored, so a late
	// retry never overwrites newer state.
	SavePacket(ctx context.Context, p review.Packet) error
	// Packet returns one packet, or an error wrapping ErrNotFound.
	Packet(ctx context.Context, reviewID string) (review.Packet, error)
	// Packets returns the matching packets ordered by cycle, then review ID.
	Packets(ctx context.Context, f PacketFilter) ([]review.Packet, error)
	// PacketCycles counts the matching packets of each cycle, newest cycle
	// first, without reading them: a list of the latest reviews reads only
	// the cycles it shows.
	PacketCycles(ctx context.Context, f PacketFilter) ([]CycleCount, error)
	// AccountPackets is Packets of many accounts at once, by account (see accountpackets.go).
	AccountPackets(ctx context.Context, accountIDs []string) (map[string][]review.Packet, error)

	// Queue returns one page of the reviews matching f, most urgent first
	// (the assessment's urgency, then score), and how many match in all. It
	// reads headline columns only, never the packets themselves.
	Queue(ctx context.Context, f QueueFilter) ([]QueueRow, int, error)
	// ReviewCounts counts the reviews by state and tier (absent = 0).
	ReviewCounts(ctx context.Context) (map[review.State]map[risk.Tier]int, error)

	// AppendEvent appends a measurement event. The event's Key makes the
	// write idempotent: when the key is already stored nothing is written
	// and inserted is false.
	AppendEvent(ctx context.Context, e review.Event) (inserted bool, err error)
	// Events returns the matching events in the order they were appended.
	Events(ctx context.Context, f EventFilter) ([]review.Event, error)

	// AddUser stores a new user with a password hash ("" for a user who
	// signs in only through single sign-on). A name already taken is an
	// error wrapping ErrExists.
	AddUser(ctx context.Context, u identity.User, passwordHash string) error
	// User returns one user, or an error wrapping ErrNotFound.
	User(ctx context.Context, name string) (identity.User, error)
	// Users returns every user ordered by name.
	Users(ctx context.Context) ([]identity.User, error)
	// PasswordHash returns a user's password hash ("" when the user has
	// none), or an error wrapping ErrNotFound.
	PasswordHash(ctx context.Context, name string) (string, error)
	// SetPassword replaces a user's password hash; ErrNotFound for an
	// unknown name.
	SetPassword(ctx context.Context, name, hash string) error
	// SetUserDisabled disables or re-enables a user; ErrNotFound for an
	// unknown name. A disabled user keeps their tokens, which are refused
	// while the user is disabled.
	// SetRole changes a user's role (single sign-on's role claim does);
	// ErrNotFound for an unknown name.
	SetRole(ctx context.Context, name string, role identity.Role) error
	SetUserDisabled(ctx context.Context, name string, disabled bool) error
	// AddToken stores the hash of a new API token of a user; ErrNotFound
	// for an unknown name.
	AddToken(ctx context.Context, name, tokenHash string, at time.Time) error
	// UserByToken returns the user whose token has this hash, or an error
	// wrapping ErrNotFound. A disabled user is returned too: the caller
	// refuses them.
	UserByToken(ctx context.Context, tokenHash string) (identity.User, error)
	// TeamOf returns, ordered, the names of the users whose manager is
	// manager.
	TeamOf(ctx context.Context, manager string) ([]string, error)

	// FindSession returns a web session's data; an expired session is not
	// found. The web layer adapts the session methods to scs.Store.
	FindSession(ctx context.Context, token string) (data []byte, found bool, err error)
	// CommitSession stores a session's data and expiry, replacing any.
	CommitSession(ctx context.Context, token string, data []byte, expiry time.Time) error
	// DeleteSession removes a session; an unknown token is not an error.
	DeleteSession(ctx context.Context, token string) error
	// DeleteExpiredSessions removes the expired sessions and says how many.
	DeleteExpiredSessions(ctx context.Context) (int, error)

	// Ping writes a small row and reads it back: /readyz asks whether the
	// record is reachable and writable.
	Ping(ctx context.Context) error

	// OutreachRecord keeps the approved outreach sent to customers (see
	// outreach.go): at most once per review.
	OutreachRecord

	// Inbox keeps the snapshot uploads until a scan consumes them (see
	// inbox.go).
	Inbox

	// Outbox holds the notices to the team until the worker's drainer
	// delivers them (see outbox.go).
	Outbox

	// Reports keeps the rendered leadership reports, read by ID (see
	// reports.go).
	Reports

	// Reservations holds each account for its one open review (see
	// reservations.go).
	Reservations

	// Retention drops consumed uploads' content and sent notices once
	// they are old (see retention.go).
	Retention

	Close() error
}

// Open opens the store named by dsn and applies any pending migrations. An
// empty dsn opens (creating if needed) the SQLite file churnwatch.db in
// dataDir; a postgres:// or postgresql:// URL opens PostgreSQL.
func Open(ctx context.Context, dsn, dataDir string) (Store, error) {
	switch {
	case dsn == "":
		if dataDir == "" {
			return nil, fmt.Errorf("open store: no data directory for the SQLite file")
		}
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
		// Created for this user only: SQLite gives the -wal and -shm files
		// it makes the database file's mode.
		path := filepath.Join(dataDir, FileName)
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
		f.Close()
		return openSQLite(ctx, path)
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return openPostgres(ctx, dsn)
	default:
		return nil, fmt.Errorf("open store: unsupported store.dsn %q: want empty (SQLite in the data dir) or postgres://...", redact(dsn))
	}
}

// redact hides a password in a DSN so it can appear in errors and logs.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparseable dsn)"
	}
	return u.Redacted()
}
