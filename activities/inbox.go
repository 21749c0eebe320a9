package activities

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/churnwatch/churnwatch/snapshot"
	"github.com/churnwatch/churnwatch/source"
	"github.com/churnwatch/churnwatch/store"
	"github.com/churnwatch/churnwatch/workflows"
)

// saveFunc stores what a scan read as its batch.
type saveFunc func(ctx context.Context, b store.Batch, rows []snapshot.Snapshot) error

// readInput reads what the scan names: its files (and the warehouse), or,
// when it names no file but the inbox, the inbox's pending uploads (see
// readInbox). save stores the result: for an inbox scan it also consumes
// the uploads read.
func (a *ScanActivities) readInput(ctx context.Context, in workflows.ScanInput) (files []string, id string, batch snapshot.Batch, save saveFunc, err error) {
	if len(in.Files) == 0 && in.Inbox != "" {
		return a.readInbox(ctx, in)
	}
	files, id, batch, err = a.readScan(ctx, in)
	return files, id, batch, a.Store.SaveBatch, err
}

// readInbox reads the inbox, which lives in the store: first the files
// dropped into the inbox folder are imported into it, then every pending
// upload is read, oldest first, so that for an account and week given by
// two uploads the newer one's row stands. The batch ID hashes the uploads'
// IDs and contents (and the warehouse's, when the scan reads it too), so a
// retried ingest, which reads the uploads its scan already consumed, saves
// the same batch again, which writes nothing. Saving the batch consumes the
// uploads in the same transaction; if another replica's scan consumed one
// meanwhile, nothing is saved and the retry reads what is left.
func (a *ScanActivities) readInbox(ctx context.Context, in workflows.ScanInput) ([]string, string, snapshot.Batch, saveFunc, error) {
	invalid := func(err error) ([]string, string, snapshot.Batch, saveFunc, error) {
		return nil, "", snapshot.Batch{}, nil, temporal.NewNonRetryableApplicationError(err.Error(), workflows.ErrInvalidInput, err)
	}
	dropped, err := a.importDropped(ctx, in.Inbox)
	if err != nil {
		return nil, "", snapshot.Batch{}, nil, err
	}
	// A retried ingest reads what its scan consumed already, if it got that
	// far; a first attempt reads what is pending.
	info := activity.GetInfo(ctx)
	scanID, retryOf := info.WorkflowExecution.ID, ""
	if info.Attempt > 1 {
		retryOf = scanID
	}
	uploads, err := a.Store.ScanUploads(ctx, retryOf)
	if err != nil {
		return nil, "", snapshot.Batch{}, nil, fmt.Errorf("read the inbox: %w", err)
	}
	if len(uploads) == 0 && !in.Source {
		return invalid(errors.New("the inbox holds no new upload: each upload is scanned once, and every one so far has been"))
	}
	h := sha256.New()
	var files, ids []string
	parts := make([]snapshot.Batch, len(uploads))
	for i, u := range uploads {
		label := u.ID + "/" + u.Name // the name keeps the extension the reader goes by
		if parts[i], err = snapshot.Read(bytes.NewReader(u.Content), label); err != nil {
			return invalid(err)
		}
		files, ids = append(files, label), append(ids, u.ID)
		fmt.Fprintf(h, "%s\x00%s\x00", u.ID, u.SHA256)
		activity.RecordHeartbeat(ctx, "read "+label)
	}
	batch := newestWins(parts, files)
	if in.Source {
		srcFiles, srcID, src, err := a.readScan(ctx, workflows.ScanInput{Source: true})
		if err != nil {
			return nil, "", snapshot.Batch{}, nil, err
		}
		batch = source.Join(batch, src)
		files = append(files, srcFiles...)
		io.WriteString(h, srcID) // it hashes what the source gave
	}
	id := "batch-" + hex.EncodeToString(h.Sum(nil))[:16]
	save := func(ctx context.Context, b store.Batch, rows []snapshot.Snapshot) error {
		if err := a.Store.SaveInboxBatch(ctx, b, rows, ids, scanID); err != nil {
			return err
		}
		for _, u := range ids {
			if path, ok := dropped[u]; ok {
				a.archiveDropped(in.Inbox, path, b.ID)
			}
		}
		return nil
	}
	return files, id, batch, save, nil
}

// newestWins joins the uploads' batches, oldest first: a row for an account
// and week an earlier upload gave takes that row's place, so the newest
// upload stands (where snapshot.ReadFiles, reading one input, rejects the
// later row).
func newestWins(parts []snapshot.Batch, labels []string) snapshot.Batch {
	type accountWeek struct {
		id   string
		week int64
	}
	out := snapshot.Batch{Rows: []snapshot.Snapshot{}, Rejected: []snapshot.Rejection{}, Warnings: []string{}}
	at := map[accountWeek]int{}
	for i, p := range parts {
		restated := 0
		for _, r := range p.Rows {
			k := accountWeek{r.AccountID, r.Week.Unix()}
			if j, ok := at[k]; ok {
				out.Rows[j] = r
				restated++
				continue
			}
			at[k] = len(out.Rows)
			out.Rows = append(out.Rows, r)
		}
		out.Rejected = append(out.Rejected, p.Rejected...)
		out.Warnings = append(out.Warnings, p.Warnings...)
		if restated > 0 {
			out.Warnings = append(out.Warnings, fmt.Sprintf("%s restates %d account-weeks of an earlier upload; its rows stand", labels[i], restated))
		}
	}
	return out
}

// importDropped adds the snapshot files in the inbox folder to the store's
// inbox and returns their paths by upload ID. An upload's ID hashes the
// file's name, time and content, so a file imported by an earlier attempt
// is not added twice; one whose upload was consumed already (its batch
// saved, then the move failed) is archived now. Upload .part files older
// than an hour, left by a crash, are removed. A missing folder holds nothing.
func (a *ScanActivities) importDropped(ctx context.Context, dir string) (map[string]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("read the inbox folder: %w", err)
	}
	dropped := map[string]string{}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || !info.Mode().IsRegular() {
			continue // gone meanwhile, or a folder (the archive)
		}
		path := filepath.Join(dir, e.Name())
		if strings.HasSuffix(e.Name(), ".part") {
			if time.Since(info.ModTime()) > time.Hour {
				os.Remove(path)
			}
			continue
		}
		switch strings.ToLower(filepath.Ext(e.Name())) {
		case ".csv", ".json", ".ndjson", ".jsonl":
		default:
			continue
		}
		content, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("import %s: %w", path, err)
		}
		h := sha256.New()
		fmt.Fprintf(h, "%s\x00%d\x00", e.Name(), info.ModTime().UnixNano())
		h.Write(content)
		id := "file-" + hex.EncodeToString(h.Sum(nil))[:16]
		added, err := a.Store.AddUpload(ctx, store.Upload{ID: id, Name: e.Name(), UploadedAt: info.ModTime(), Content: content})
		if err != nil {
			return nil, fmt.Errorf("import %s: %w", path, err)
		}
		if !added {
			if u, err := a.Store.Upload(ctx, id); err == nil && u.State == store.UploadConsumed {
				a.archiveDropped(dir, path, u.BatchID)
				continue
			}
		}
		dropped[id] = path
		activity.RecordHeartbeat(ctx, "import "+e.Name())
	}
	return dropped, nil
}

// archiveDropped moves a dropped file, read into batchID, to
// <inbox>/archive/<batch-id>/, so no scan imports it again. The file and
// the archive folder are synced before the rename and the inbox folder
// after it, so a crash leaves the file in one place or the other, whole. A
// failure is logged: the upload is consumed all the same, and the next
// scan's import finds the file and archives it then.
func (a *ScanActivities) archiveDropped(inbox, path, batchID string) {
	dst := filepath.Join(inbox, "archive", batchID)
	err := os.MkdirAll(dst, 0o700)
	if err == nil {
		err = syncPath(path)
	}
	for _, d := range []string{dst, filepath.Dir(dst)} {
		if err == nil {
			err = syncPath(d)
		}
	}
	if err == nil {
		err = os.Rename(path, filepath.Join(dst, filepath.Base(path)))
	}
	if err == nil {
		err = syncPath(inbox)
	}
	if err != nil {
		logOr(a.Logger).Warn("inbox file read but not archived; the next scan archives it", "file", path, "batch_id", batchID, "error", err)
	}
}

// syncPath fsyncs a file or a folder.
func syncPath(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
