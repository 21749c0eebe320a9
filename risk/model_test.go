package risk

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/churnwatch/churnwatch/snapshot"
)

func TestDefaultModelIsValid(t *testing.T) {
	if err := DefaultModel().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestValidateNamesTheKey(t *testing.T) {
	cases := []struct {
		change func(*Model)
		key    string
	}{
		{func(m *Model) { m.Thresholds.Critical = m.Thresholds.Elevated }, "risk.thresholds.critical: must be above risk.thresholds.elevated"},
		{func(m *Model) { m.Thresholds.Critical = 120 }, "risk.thresholds.critical: must be at most 100"},
		{func(m *Model) { m.Thresholds.Watch = 0 }, "risk.thresholds.watch"},
		{func(m *Model) { m.Windows.PersistenceWeeks = 5 }, "risk.windows.persistence_weeks"},
		{func(m *Model) { m.Windows.RecentWeeks = 0 }, "risk.windows.recent_weeks"},
		{func(m *Model) { m.Windows.BaselineWeeks = 70 }, "risk.windows.baseline_weeks"},
		{func(m *Model) { m.Windows.MinBaselineWeeks = 9 }, "risk.windows.min_baseline_weeks"},
		{func(m *Model) { m.Windows.SeasonalWeeks = 5 }, "risk.windows.seasonal_weeks"},
		{func(m *Model) { m.Windows.RhythmFactor = 0.5 }, "risk.windows.rhythm_factor"},
		{func(m *Model) { m.Windows.RhythmMinShare = 0 }, "risk.windows.rhythm_min_share"},
		{func(m *Model) { m.Dimensions.Usage.Cap = -1 }, "risk.dimensions.usage.cap"},
		{func(m *Model) { m.Dimensions.Outcome.Weight = -2 }, "risk.dimensions.outcome.weight"},
		{func(m *Model) { m.Signals.LoginDrop.Threshold = 20 }, "risk.signals.login_drop.threshold"},
		{func(m *Model) { m.Signals.LoginDrop.Points = -1 }, "risk.signals.login_drop.points"},
		{func(m *Model) { m.Signals.ExecSponsorSilence.Severe = 10 }, "risk.signals.exec_sponsor_silence.severe"},
		{func(m *Model) { m.Signals.NPSLow.Severe = 8 }, "risk.signals.nps_low.severe: must be below"},
		{func(m *Model) { m.Signals.InvoiceOverdue.SeverePoints = 1 }, "risk.signals.invoice_overdue.severe_points"},
		{func(m *Model) { m.Evidence.MinDimensions = 6 }, "risk.evidence.min_dimensions"},
		{func(m *Model) { m.Windows.StaleWeeks = 5 }, "risk.windows.stale_weeks"},
		{func(m *Model) { m.Windows.StaleWeeks = -1 }, "risk.windows.stale_weeks"},
		{func(m *Model) { m.RightSizing.DistressFactor = 0.5 }, "risk.right_sizing.distress_factor"},
		{func(m *Model) { m.Signals.ARRDecline.Threshold = 10 }, "risk.signals.arr_decline.threshold"},
		{func(m *Model) { m.Signals.LoginRecency.Severe = 7 }, "risk.signals.login_recency.severe"},
		{func(m *Model) { m.Signals.TicketVolumeRising.SeverePoints = 1 }, "risk.signals.ticket_volume_rising.severe_points"},
		{func(m *Model) { m.Signals.NPSNoResponse.Points = 101 }, "risk.signals.nps_no_response.points"},
		{func(m *Model) { m.Signals.MeetingsMissed.Severe = 1 }, "risk.signals.meetings_missed.severe"},
		{func(m *Model) { m.SLAHours.Critical = -1 }, "risk.sla_hours.critical"},
		{func(m *Model) { m.Priority.ARRReference = 0 }, "risk.priority.arr_reference"},
		{func(m *Model) { m.Priority.RenewalHorizonDays = 10 }, "risk.priority.renewal_horizon_days"},
	}
	for _, c := range cases {
		m := DefaultModel()
		c.change(&m)
		err := m.Validate()
		if err == nil || !strings.Contains(err.Error(), c.key) {
			t.Errorf("want an error naming %q, got %v", c.key, err)
		}
	}
}

func TestHashTracksTheConfiguration(t *testing.T) {
	a, b := DefaultModel(), DefaultModel()
	if a.Hash() != b.Hash() || len(a.Hash()) != 12 {
		t.Fatalf("equal models hash %q and %q", a.Hash(), b.Hash())
	}
	b.Dimensions.Usage.Weight = 1.1
	if a.Hash() == b.Hash() {
		t.Error("a changed weight kept the hash")
	}
	c := DefaultModel()
	c.Signals.NPSDrop.Points++
	if c.Hash() == a.Hash() || c.Hash() == b.Hash() {
		t.Error("a changed signal kept the hash")
	}
	if a.Hash() != DefaultModel().Hash() { // the cache must not leak between models
		t.Error("hash of the default model changed")
	}
}

// TestModelKeysMatchTags keeps the json and mapstructure names in step, as
// the config file uses one and the hash the other.
func TestModelKeysMatchTags(t *testing.T) {
	var walk func(reflect.Type, string)
	walk = func(typ reflect.Type, path string) {
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			ms, js := f.Tag.Get("mapstructure"), f.Tag.Get("json")
			if ms == "" || ms != js {
				t.Errorf("%s%s: mapstructure %q, json %q", path, f.Name, ms, js)
			}
			if f.Type.Kind() == reflect.Struct {
				walk(f.Type, path+ms+".")
			}
		}
	}
	walk(reflect.TypeOf(Model{}), "risk.")
	for _, id := range SignalIDs() {
		if _, ok := reflect.TypeOf(Signals{}).FieldByNameFunc(func(name string) bool {
			f, _ := reflect.TypeOf(Signals{}).FieldByName(name)
			return f.Tag.Get("json") == id
		}); !ok {
			t.Errorf("signal %s has no rule in Signals", id)
		}
	}
}

func TestRulePoints(t *testing.T) {
	r := Rule{Threshold: 0.2, Points: 10, Severe: 0.5, SeverePoints: 20}
	for x, want := range map[float64]int{0.1: 0, 0.2: 10, 0.35: 15, 0.5: 20, 0.9: 20} {
		if got := r.points(x, false); got != want {
			t.Errorf("points(%v) = %d, want %d", x, got, want)
		}
	}
	low := Rule{Threshold: 6, Points: 6, Severe: 0, SeverePoints: 16}
	for x, want := range map[float64]int{9: 0, 6: 6, 3: 11, 0: 16} {
		if got := low.points(x, true); got != want {
			t.Errorf("lower-is-worse points(%v) = %d, want %d", x, got, want)
		}
	}
}

func TestReportJSONFollowsTheContract(t *testing.T) {
	rows := append(textbook(), steady("H", 12)...)
	b := snapshot.Batch{Rows: rows, Rejected: []snapshot.Rejection{{File: "x.csv", Row: 7, Field: "dau_mau", Reason: `"1.7" is outside [0,1]`}}}
	r := DefaultModel().NewReport(b, time.Time{})
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(r); err != nil {
		t.Fatal(err)
	}
	var got struct {
		AsOf     string `json:"as_of"`
		Accounts []struct {
			AccountID   *string `json:"account_id"`
			AccountName *string `json:"account_name"`
			Owner       *string `json:"owner"`
			Score       *int    `json:"score"`
			Tier        *string `json:"tier"`
			Priority    *int    `json:"priority"`
			Signals     []struct {
				ID        string `json:"id"`
				Dimension string `json:"dimension"`
				Points    *int   `json:"points"`
				Text      string `json:"text"`
				Evidence  *struct {
					Field  string    `json:"field"`
					Weeks  []string  `json:"weeks"`
					Values []float64 `json:"values"`
				} `json:"evidence"`
			} `json:"signals"`
			Missing []string `json:"missing"`
		} `json:"accounts"`
		Rejected []snapshot.Rejection `json:"rejected"`
		Warnings []string             `json:"warnings"`
	}
	dec := json.NewDecoder(&buf)
	if err := dec.Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got.AsOf != "2026-10-19" || len(got.Accounts) != 2 || len(got.Rejected) != 1 || got.Warnings == nil {
		t.Fatalf("report: %+v", got)
	}
	first := got.Accounts[0]
	if *first.AccountID != "A-1" || *first.Tier != "critical" || *first.Priority != 1 || first.Missing == nil {
		t.Errorf("first account: %+v", first)
	}
	for _, s := range first.Signals {
		if s.ID == "" || s.Dimension == "" || s.Points == nil || s.Text == "" || s.Evidence == nil || s.Evidence.Field == "" || len(s.Evidence.Weeks) == 0 {
			t.Errorf("signal %+v", s)
		}
	}
	var table bytes.Buffer
	if err := r.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	if out := table.String(); !strings.Contains(out, "critical") || !strings.Contains(out, "x.csv row 7, dau_mau") {
		t.Errorf("table:\n%s", out)
	}
}
