package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/risk"
	"github.com/churnwatch/churnwatch/snapshot"
)

// sqlStore is the Store over database/sql, shared by both dialects.
type sqlStore struct {
	db      *sql.DB
	d       *dialect
	writeMu sync.Mutex // held around writes when d.serializeWrites
	stamps  stampMemo  // SQLite's counted score stamps (see ScoreStamp)
}

func newSQLStore(ctx context.Context, db *sql.DB, d *dialect) (*sqlStore, error) {
	if err := db.PingContext(ctx); err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	if err := migrate(ctx, db, d); err != nil {
		return nil, err
	}
	s := &sqlStore{db: db, d: d}
	if err := s.fillQueueColumns(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *sqlStore) Close() error { return s.db.Close() }

// lockWrites serializes this process's writes where the dialect wants it.
func (s *sqlStore) lockWrites() func() {
	if !s.d.serializeWrites {
		return func() {}
	}
	s.writeMu.Lock()
	return s.writeMu.Unlock
}

// insertRows inserts n rows of len(cols) values with multi-row INSERTs, as
// many rows per statement as the dialect's parameter limit allows. suffix
// follows the VALUES list (an ON CONFLICT clause).
func (s *sqlStore) insertRows(ctx context.Context, tx *sql.Tx, table string, cols []string, suffix string, n int, row func(i int) []any) error {
	perStmt := min(s.d.maxParams/len(cols), 500)
	head := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES "
	args := make([]any, 0, perStmt*len(cols))
	for start := 0; start < n; start += perStmt {
		end := min(start+perStmt, n)
		var q strings.Builder
		q.WriteString(head)
		args = args[:0]
		for i := start; i < end; i++ {
			if i > start {
				q.WriteString(", ")
			}
			q.WriteByte('(')
			vals := row(i)
			for j, v := range vals {
				if j > 0 {
					q.WriteString(", ")
				}
				args = append(args, v)
				q.WriteString(s.d.placeholder(len(args)))
			}
			q.WriteByte(')')
		}
		q.WriteString(" " + suffix)
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			return fmt.Errorf("insert into %s: %w", table, err)
		}
	}
	return nil
}

func (s *sqlStore) SaveBatch(ctx context.Context, b Batch, rows []snapshot.Snapshot) error {
	return s.saveBatch(ctx, "save batch", b, rows, nil)
}

// saveBatch saves a batch and its rows in one transaction, with also (when
// set) run in the same transaction: what makes the batch's saving count.
func (s *sqlStore) saveBatch(ctx context.Context, what string, b Batch, rows []snapshot.Snapshot, also func(*sql.Tx) error) error {
	files, blobs, err := encodeBatch(b, rows)
	if err != nil {
		return err
	}
	defer s.lockWrites()()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s %s: %w", what, b.ID, err)
	}
	defer tx.Rollback()
	if err := s.saveBatchTx(ctx, tx, b, files, rows, blobs); err != nil {
		return fmt.Errorf("%s %s: %w", what, b.ID, err)
	}
	if also != nil {
		if err := also(tx); err != nil {
			return fmt.Errorf("%s %s: %w", what, b.ID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s %s: %w", what, b.ID, err)
	}
	return nil
}

// encodeBatch encodes a batch's file list and rows for saveBatchTx.
func encodeBatch(b Batch, rows []snapshot.Snapshot) (files string, blobs []string, err error) {
	if b.ID == "" {
		return "", nil, fmt.Errorf("save batch: empty batch ID")
	}
	list, err := json.Marshal(nonNil(b.SourceFiles))
	if err != nil {
		return "", nil, fmt.Errorf("save batch %s: %w", b.ID, err)
	}
	blobs = make([]string, len(rows))
	for i := range rows {
		blob, err := json.Marshal(&rows[i])
		if err != nil {
			return "", nil, fmt.Errorf("save batch %s: row %d (%s): %w", b.ID, i, rows[i].AccountID, err)
		}
		blobs[i] = string(blob)
	}
	return string(list), blobs, nil
}

// saveBatchTx inserts the batch and its rows in tx, unless the batch ID is
// already stored: snapshots are immutable, a retry writes nothing.
func (s *sqlStore) saveBatchTx(ctx context.Context, tx *sql.Tx, b Batch, files string, rows []snapshot.Snapshot, blobs []string) error {
	res, err := tx.ExecContext(ctx, `INSERT INTO batches (batch_id, source_files, ingested_at, row_count)
		VALUES ($1, $2, $3, $4) ON CONFLICT (batch_id) DO NOTHING`,
		b.ID, files, s.d.timeArg(b.IngestedAt), len(rows))
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return err
	}
	return s.insertRows(ctx, tx, "snapshots",
		[]string{"batch_id", "seq", "account_id", "week", "source_file", "source_row", "data"}, "",
		len(rows), func(i int) []any {
			r := &rows[i]
			return []any{b.ID, i, r.AccountID, r.Week.Format("2006-01-02"), r.Source.File, r.Source.Row, blobs[i]}
		})
}

func (s *sqlStore) BatchRows(ctx context.Context, batchID string) ([]snapshot.Snapshot, error) {
	var count int
	err := s.db.QueryRowContext(ctx, `SELECT row_count FROM batches WHERE batch_id = $1`, batchID).Scan(&count)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("batch %s: %w", batchID, ErrNotFound)
	} else if err != nil {
		return nil, fmt.Errorf("batch %s: %w", batchID, err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT data FROM snapshots WHERE batch_id = $1 ORDER BY seq`, batchID)
	if err != nil {
		return nil, fmt.Errorf("batch %s: %w", batchID, err)
	}
	defer rows.Close()
	out := make([]snapshot.Snapshot, 0, count)
	for rows.Next() {
		var blob []byte
		if err := rows.Scan(&blob); err != nil {
			return nil, fmt.Errorf("batch %s: %w", batchID, err)
		}
		var snap snapshot.Snapshot
		if err := json.Unmarshal(blob, &snap); err != nil {
			return nil, fmt.Errorf("batch %s: row %d: %w", batchID, len(out), err)
		}
		out = append(out, snap)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("batch %s: %w", batchID, err)
	}
	return out, nil
}

// historyChunk bounds the account IDs bound into one History query.
const historyChunk = 1000

func (s *sqlStore) History(ctx context.Context, accountIDs []string, through string) ([]snapshot.Snapshot, error) {
	if len(accountIDs) == 0 {
		return s.history(ctx, nil, through)
	}
	ids := append([]string(nil), accountIDs...)
	sort.Strings(ids)
	var out []snapshot.Snapshot
	for start := 0; start < len(ids); start += historyChunk {
		rows, err := s.history(ctx, ids[start:min(start+historyChunk, len(ids))], through)
		if err != nil {
			return nil, err
		}
		out = append(out, rows...)
	}
	return out, nil
}

func (s *sqlStore) BatchAccounts(ctx context.Context, batchID, through, after, last string) ([]string, error) {
	// The (account_id, week) index serves the range; the batch filters it.
	var w where
	w.cmp("account_id", ">", after)
	w.cmp("account_id", "<=", last)
	w.cmp("week", "<=", through)
	w.eq("batch_id", batchID)
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT account_id FROM snapshots`+w.String()+` ORDER BY account_id`, w.args...)
	if err != nil {
		return nil, fmt.Errorf("accounts of batch %s: %w", batchID, err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("accounts of batch %s: %w", batchID, err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("accounts of batch %s: %w", batchID, err)
	}
	return ids, nil
}

func (s *sqlStore) history(ctx context.Context, accountIDs []string, through string) ([]snapshot.Snapshot, error) {
	var w where
	w.in("s.account_id", accountIDs)
	w.cmp("s.week", "<=", through)
	rows, err := s.db.QueryContext(ctx, `SELECT data FROM (
			SELECT s.account_id, s.week, s.data, ROW_NUMBER() OVER (
				PARTITION BY s.account_id, s.week
				ORDER BY b.ingested_at DESC, b.batch_id DESC, s.seq DESC) AS rn
			FROM snapshots s JOIN batches b ON b.batch_id = s.batch_id`+w.String()+`
		) h WHERE rn = 1 ORDER BY account_id, week`, w.args...)
	if err != nil {
		return nil, fmt.Errorf("history through %s: %w", through, err)
	}
	defer rows.Close()
	var out []snapshot.Snapshot
	for rows.Next() {
		var blob []byte
		if err := rows.Scan(&blob); err != nil {
			return nil, fmt.Errorf("history through %s: %w", through, err)
		}
		var snap snapshot.Snapshot
		if err := json.Unmarshal(blob, &snap); err != nil {
			return nil, fmt.Errorf("history through %s: stored snapshot: %w", through, err)
		}
		out = append(out, snap)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("history through %s: %w", through, err)
	}
	return out, nil
}

func (s *sqlStore) SaveScores(ctx context.Context, batchID string, as []risk.Assessment) error {
	if len(as) == 0 {
		return nil
	}
	blobs := make([]string, len(as))
	weeks, accounts := map[string]bool{}, map[string]bool{}
	var weekList, accountList []string
	for i := range as {
		a := &as[i]
		if a.AccountID == "" || a.AsOf == "" {
			return fmt.Errorf("save scores: assessment %d has no account ID or as-of week", i)
		}
		blob, err := json.Marshal(a)
		if err != nil {
			return fmt.Errorf("save scores: %s %s: %w", a.AccountID, a.AsOf, err)
		}
		blobs[i] = string(blob)
		if !weeks[a.AsOf] {
			weeks[a.AsOf] = true
			weekList = append(weekList, a.AsOf)
		}
		if !accounts[a.AccountID] {
			accounts[a.AccountID] = true
			accountList = append(accountList, a.AccountID)
		}
	}

	defer s.lockWrites()()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("save scores: %w", err)
	}
	defer tx.Rollback()
	if err := s.supersedeScores(ctx, tx, batchID, as); err != nil {
		return fmt.Errorf("save scores: %w", err)
	}
	err = s.insertRows(ctx, tx, "scores",
		[]string{"account_id", "as_of", "config_hash", "model_version", "batch_id", "tier", "score", "arr", "owner", "scored_at", "data"},
		"ON CONFLICT (account_id, as_of, config_hash) DO NOTHING",
		len(as), func(i int) []any {
			a := &as[i]
			var scoredAt any
			if !a.ScoredAt.IsZero() {
				scoredAt = s.d.timeArg(a.ScoredAt)
			}
			return []any{a.AccountID, a.AsOf, a.ConfigHash, a.ModelVersion, batchID, string(a.Tier), a.Score, a.ARR, a.Owner, scoredAt, blobs[i]}
		})
	if err != nil {
		return fmt.Errorf("save scores: %w", err)
	}
	err = s.insertRows(ctx, tx, "score_weeks", []string{"week"}, "ON CONFLICT (week) DO NOTHING",
		len(weekList), func(i int) []any { return []any{weekList[i]} })
	if err != nil {
		return fmt.Errorf("save scores: %w", err)
	}
	err = s.insertRows(ctx, tx, "score_accounts", []string{"account_id"}, "ON CONFLICT (account_id) DO NOTHING",
		len(accountList), func(i int) []any { return []any{accountList[i]} })
	if err != nil {
		return fmt.Errorf("save scores: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("save scores: %w", err)
	}
	return nil
}

// scanAssessments reads rows of (data, scored_at).
func scanAssessments(rows *sql.Rows) ([]risk.Assessment, error) {
	defer rows.Close()
	var out []risk.Assessment
	for rows.Next() {
		var blob []byte
		var a risk.Assessment
		if err := rows.Scan(&blob, dbTime{&a.ScoredAt}); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(blob, &a); err != nil {
			return nil, fmt.Errorf("stored assessment: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

func (s *sqlStore) LatestScores(ctx context.Context, before string, accountIDs ...string) (map[string]risk.Assessment, error) {
	out := map[string]risk.Assessment{}
	if len(accountIDs) == 0 {
		return out, s.latestScores(ctx, before, nil, out)
	}
	for start := 0; start < len(accountIDs); start += historyChunk {
		if err := s.latestScores(ctx, before, accountIDs[start:min(start+historyChunk, len(accountIDs))], out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *sqlStore) latestScores(ctx context.Context, before string, accountIDs []string, out map[string]risk.Assessment) error {
	w := where{args: []any{before}}
	w.in("a.account_id", accountIDs)
	// One probe of the (account_id, as_of, ...) index per account; the
	// newest week wins, then the most recently saved configuration.
	rows, err := s.db.QueryContext(ctx, `SELECT s.data, s.scored_at
		FROM score_accounts a
		JOIN scores s ON s.id = (
			SELECT x.id FROM scores x
			WHERE x.account_id = a.account_id AND x.as_of < $1
			ORDER BY x.as_of DESC, x.id DESC LIMIT 1)`+w.String(), w.args...)
	if err != nil {
		return fmt.Errorf("latest scores before %s: %w", before, err)
	}
	as, err := scanAssessments(rows)
	if err != nil {
		return fmt.Errorf("latest scores before %s: %w", before, err)
	}
	for _, a := range as {
		out[a.AccountID] = a
	}
	return nil
}

func (s *sqlStore) ScoresAsOf(ctx context.Context, week string, accountIDs ...string) ([]risk.Assessment, error) {
	if len(accountIDs) == 0 {
		return s.scoresAsOf(ctx, week, nil)
	}
	ids := append([]string(nil), accountIDs...)
	sort.Strings(ids)
	var out []risk.Assessment
	for start := 0; start < len(ids); start += historyChunk {
		as, err := s.scoresAsOf(ctx, week, ids[start:min(start+historyChunk, len(ids))])
		if err != nil {
			return nil, err
		}
		out = append(out, as...)
	}
	return out, nil
}

// scoresAsOf reads a week's scores in index order (account, then save
// order) and keeps each account's last row: its latest configuration. Only
// the kept rows are decoded.
func (s *sqlStore) scoresAsOf(ctx context.Context, week string, accountIDs []string) ([]risk.Assessment, error) {
	var w where
	w.eq("as_of", week)
	w.in("account_id", accountIDs)
	rows, err := s.db.QueryContext(ctx, `SELECT account_id, data, scored_at FROM scores`+w.String()+` ORDER BY account_id, id`, w.args...)
	if err != nil {
		return nil, fmt.Errorf("scores of %s: %w", week, err)
	}
	defer rows.Close()
	var out []risk.Assessment
	var pending struct {
		account  string
		blob     []byte
		scoredAt time.Time
	}
	flush := func() error {
		if pending.account == "" {
			return nil
		}
		var a risk.Assessment
		if err := json.Unmarshal(pending.blob, &a); err != nil {
			return fmt.Errorf("stored assessment of %s: %w", pending.account, err)
		}
		a.ScoredAt = pending.scoredAt
		out = append(out, a)
		return nil
	}
	for rows.Next() {
		var account string
		var blob []byte
		var scoredAt time.Time
		if err := rows.Scan(&account, &blob, dbTime{&scoredAt}); err != nil {
			return nil, fmt.Errorf("scores of %s: %w", week, err)
		}
		if account != pending.account {
			if err := flush(); err != nil {
				return nil, fmt.Errorf("scores of %s: %w", week, err)
			}
		}
		pending.account, pending.blob, pending.scoredAt = account, blob, scoredAt
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("scores of %s: %w", week, err)
	}
	if err := flush(); err != nil {
		return nil, fmt.Errorf("scores of %s: %w", week, err)
	}
	return out, nil
}

// ScoreRows reads the covering index only (migration 0002), keeping each
// account's last row as scoresAsOf does.
func (s *sqlStore) ScoreRows(ctx context.Context, week string) ([]ScoreRow, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT account_id, owner, tier, score, arr FROM scores
		WHERE as_of = $1 ORDER BY account_id, id`, week)
	if err != nil {
		return nil, fmt.Errorf("score rows of %s: %w", week, err)
	}
	defer rows.Close()
	var out []ScoreRow
	for rows.Next() {
		var r ScoreRow
		var tier string
		if err := rows.Scan(&r.AccountID, &r.Owner, &tier, &r.Score, &r.ARR); err != nil {
			return nil, fmt.Errorf("score rows of %s: %w", week, err)
		}
		r.Tier = risk.Tier(tier)
		if n := len(out); n > 0 && out[n-1].AccountID == r.AccountID {
			out[n-1] = r // a later configuration of the same account
			continue
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("score rows of %s: %w", week, err)
	}
	return out, nil
}

func (s *sqlStore) Weeks(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT week FROM score_weeks ORDER BY week`)
	if err != nil {
		return nil, fmt.Errorf("scored weeks: %w", err)
	}
	defer rows.Close()
	var weeks []string
	for rows.Next() {
		var w string
		if err := rows.Scan(&w); err != nil {
			return nil, fmt.Errorf("scored weeks: %w", err)
		}
		weeks = append(weeks, w)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("scored weeks: %w", err)
	}
	return weeks, nil
}

func (s *sqlStore) SavePacket(ctx context.Context, p review.Packet) error {
	if p.ReviewID == "" {
		return fmt.Errorf("save packet: empty review ID")
	}
	blob, err := json.Marshal(&p)
	if err != nil {
		return fmt.Errorf("save packet %s: %w", p.ReviewID, err)
	}
	defer s.lockWrites()()
	// The WHERE keeps a late retry carrying an older UpdatedAt from undoing
	// newer state; an equal UpdatedAt is the same write again. It also keeps
	// a decided packet from being replaced by an undecided one of the same
	// review ID: a rescan of the same week after the namespace's retention
	// forgot the first workflow may start its ID again, and must not erase
	// the decision (only the drafting and awaiting_approval states have
	// none).
	args := append([]any{p.ReviewID, p.AccountID, p.Cycle, p.Owner, string(p.State), string(p.Severity),
		s.d.timeArg(p.CreatedAt), s.d.timeArg(p.UpdatedAt), string(blob)}, queueColumns(p, s.d)...)
	_, err = s.db.ExecContext(ctx, `INSERT INTO packets
			(review_id, account_id, cycle, owner, state, severity, created_at, updated_at, data,
			 account_name, score, arr, urgency, renewal_date, due_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
		ON CONFLICT (review_id) DO UPDATE SET
			account_id = excluded.account_id, cycle = excluded.cycle, owner = excluded.owner,
			state = excluded.state, severity = excluded.severity, created_at = excluded.created_at,
			updated_at = excluded.updated_at, data = excluded.data,
			account_name = excluded.account_name, score = excluded.score, arr = excluded.arr,
			urgency = excluded.urgency, renewal_date = excluded.renewal_date, due_at = excluded.due_at
		WHERE packets.updated_at <= excluded.updated_at
			AND (packets.state IN ($16, $17) OR excluded.state NOT IN ($16, $17))`,
		append(args, string(review.Drafting), string(review.AwaitingApproval))...)
	if err != nil {
		return fmt.Errorf("save packet %s: %w", p.ReviewID, err)
	}
	return nil
}

func (s *sqlStore) Packet(ctx context.Context, reviewID string) (review.Packet, error) {
	var blob []byte
	err := s.db.QueryRowContext(ctx, `SELECT data FROM packets WHERE review_id = $1`, reviewID).Scan(&blob)
	if errors.Is(err, sql.ErrNoRows) {
		return review.Packet{}, fmt.Errorf("packet %s: %w", reviewID, ErrNotFound)
	} else if err != nil {
		return review.Packet{}, fmt.Errorf("packet %s: %w", reviewID, err)
	}
	var p review.Packet
	if err := json.Unmarshal(blob, &p); err != nil {
		return review.Packet{}, fmt.Errorf("packet %s: stored data: %w", reviewID, err)
	}
	return p, nil
}

// where builds a WHERE clause from conditions, numbering placeholders.
type where struct {
	conds []string
	args  []any
}

func (w *where) eq(col string, v string) {
	if v != "" {
		w.args = append(w.args, v)
		w.conds = append(w.conds, col+" = $"+strconv.Itoa(len(w.args)))
	}
}

func (w *where) cmp(col, op string, v string) {
	if v != "" {
		w.args = append(w.args, v)
		w.conds = append(w.conds, col+" "+op+" $"+strconv.Itoa(len(w.args)))
	}
}

func (w *where) in(col string, vs []string) {
	if len(vs) == 0 {
		return
	}
	ph := make([]string, len(vs))
	for i, v := range vs {
		w.args = append(w.args, v)
		ph[i] = "$" + strconv.Itoa(len(w.args))
	}
	w.conds = append(w.conds, col+" IN ("+strings.Join(ph, ", ")+")")
}

func (w *where) String() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// packetWhere is the WHERE clause of a packet filter.
func packetWhere(f PacketFilter) where {
	var w where
	w.eq("account_id", f.AccountID)
	w.eq("owner", f.Owner)
	w.eq("state", string(f.State))
	w.eq("cycle", f.Cycle)
	w.cmp("cycle", ">=", f.Since)
	w.cmp("cycle", "<=", f.Through)
	return w
}

func (s *sqlStore) PacketCycles(ctx context.Context, f PacketFilter) ([]CycleCount, error) {
	w := packetWhere(f)
	rows, err := s.db.QueryContext(ctx, `SELECT cycle, COUNT(*) FROM packets`+w.String()+` GROUP BY cycle ORDER BY cycle DESC`, w.args...)
	if err != nil {
		return nil, fmt.Errorf("packet cycles: %w", err)
	}
	defer rows.Close()
	var out []CycleCount
	for rows.Next() {
		var c CycleCount
		if err := rows.Scan(&c.Cycle, &c.Packets); err != nil {
			return nil, fmt.Errorf("packet cycles: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("packet cycles: %w", err)
	}
	return out, nil
}

func (s *sqlStore) Packets(ctx context.Context, f PacketFilter) ([]review.Packet, error) {
	w := packetWhere(f)
	rows, err := s.db.QueryContext(ctx, `SELECT data FROM packets`+w.String()+` ORDER BY cycle, review_id`, w.args...)
	if err != nil {
		return nil, fmt.Errorf("packets: %w", err)
	}
	defer rows.Close()
	var out []review.Packet
	for rows.Next() {
		var blob []byte
		if err := rows.Scan(&blob); err != nil {
			return nil, fmt.Errorf("packets: %w", err)
		}
		var p review.Packet
		if err := json.Unmarshal(blob, &p); err != nil {
			return nil, fmt.Errorf("packets: stored data: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("packets: %w", err)
	}
	return out, nil
}

func (s *sqlStore) AppendEvent(ctx context.Context, e review.Event) (bool, error) {
	if e.Key == "" {
		return false, fmt.Errorf("append event: empty key (review %s, kind %s)", e.ReviewID, e.Kind)
	}
	if e.Kind == "" {
		return false, fmt.Errorf("append event %s: empty kind", e.Key)
	}
	defer s.lockWrites()()
	res, err := s.db.ExecContext(ctx, `INSERT INTO events
			(event_key, review_id, account_id, kind, actor, occurred_at, detail)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (event_key) DO NOTHING`,
		e.Key, e.ReviewID, e.AccountID, string(e.Kind), e.Actor, s.d.timeArg(e.At), e.Detail)
	if err != nil {
		return false, fmt.Errorf("append event %s: %w", e.Key, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("append event %s: %w", e.Key, err)
	}
	return n == 1, nil
}

func (s *sqlStore) Events(ctx context.Context, f EventFilter) ([]review.Event, error) {
	var w where
	w.eq("review_id", f.ReviewID)
	w.eq("account_id", f.AccountID)
	kinds := make([]string, len(f.Kinds))
	for i, k := range f.Kinds {
		kinds[i] = string(k)
	}
	w.in("kind", kinds)
	rows, err := s.db.QueryContext(ctx, `SELECT event_key, review_id, account_id, kind, actor, occurred_at, detail
		FROM events`+w.String()+` ORDER BY id`, w.args...)
	if err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	defer rows.Close()
	var out []review.Event
	for rows.Next() {
		var e review.Event
		var kind string
		if err := rows.Scan(&e.Key, &e.ReviewID, &e.AccountID, &kind, &e.Actor, dbTime{&e.At}, &e.Detail); err != nil {
			return nil, fmt.Errorf("events: %w", err)
		}
		e.Kind = review.EventKind(kind)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	return out, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
