package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/churnwatch/churnwatch/config"
	"github.com/churnwatch/churnwatch/store"
	"github.com/churnwatch/churnwatch/workflows"
)

// reportTimeout bounds reading one part of a report through the API: the
// risk register of a 100,000-account book runs to tens of megabytes.
const reportTimeout = 5 * time.Minute

// readReport returns one part (store.ReportSummaryJSON, ...) of the report
// the summary workflow built and stored. It reads the store directly when
// this machine can open it (store.dsn, or the SQLite file in --data-dir, as
// `starter users` does), else the worker's API at server.url with
// CHURNWATCH_TOKEN (a manager's, leader's or admin's). A report from a
// worker older than stored reports carries its parts itself.
func readReport(ctx context.Context, cfg config.Config, rep workflows.Report, kind string) ([]byte, error) {
	if rep.ID == "" {
		return inlinePart(rep, kind), nil
	}
	b, err := readStoredReport(ctx, cfg, rep.ID, kind)
	if err == nil {
		return b, nil
	}
	if strings.TrimSpace(cfg.Token) == "" || cfg.Server.URL == "" {
		return nil, fmt.Errorf("report %s: %w; to read it through the worker instead, set server.url and CHURNWATCH_TOKEN (a manager's, leader's or admin's token from `starter users token NAME`)", rep.ID, err)
	}
	c, err := newAPIClient(cfg)
	if err != nil {
		return nil, err
	}
	return c.reportPart(ctx, rep.ID, kind)
}

// readStoredReport reads the part from the store the configuration names.
// Without store.dsn the SQLite file must already exist in the data dir:
// opening would otherwise create an empty record on this machine.
func readStoredReport(ctx context.Context, cfg config.Config, id, kind string) ([]byte, error) {
	if cfg.Store.DSN == "" {
		path := filepath.Join(cfg.DataDir, store.FileName)
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("no store on this machine (no store.dsn, no %s)", path)
		}
	}
	st, err := store.Open(ctx, cfg.Store.DSN, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	return st.ReportPart(ctx, id, kind)
}

// reportPart is GET /api/reports/{id}?part=kind: the part as rendered.
func (c *apiClient) reportPart(ctx context.Context, id, kind string) ([]byte, error) {
	path := "/api/reports/" + url.PathEscape(id) + "?part=" + url.QueryEscape(kind)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := (&http.Client{Timeout: reportTimeout}).Do(req)
	if err != nil {
		return nil, fmt.Errorf("report %s: %w (is the worker running at server.url?)", id, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("report %s: %w", id, readAPIError(resp))
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("report %s: %w", id, err)
	}
	return b, nil
}

// inlinePart is a part of a report that carries its parts.
func inlinePart(rep workflows.Report, kind string) []byte {
	switch kind {
	case store.ReportSummaryJSON:
		return rep.JSON
	case store.ReportSummaryMD:
		return []byte(rep.Markdown)
	case store.ReportSummaryCSV:
		return []byte(rep.CSV)
	case store.ReportAudit:
		return rep.Audit
	case store.ReportRegister:
		return []byte(rep.Register)
	}
	return nil
}

// errEmptyReport is a summary run that returned neither a stored report
// nor the parts.
var errEmptyReport = errors.New("summary: the worker returned an empty report")
