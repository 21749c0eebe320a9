package draft

import (
	"context"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/churnwatch/churnwatch/prompts"
	"github.com/churnwatch/churnwatch/review"
	"github.com/churnwatch/churnwatch/risk"
)

func loadAssessment(t testing.TB, name string) risk.Assessment {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var a risk.Assessment
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return a
}

func TestOfflineDraft(t *testing.T) {
	for _, tc := range []struct {
		name, file, csmLang, wantMailLang, suspectedWord string
	}{
		{"en", "assessment_en.json", "en", "en", "suspected"},
		{"zh", "assessment_zh.json", "zh", "zh", "疑似"},
		{"zh account, en csm", "assessment_zh.json", "en", "zh", "suspected"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := loadAssessment(t, tc.file)
			req := Request{ReviewID: "review/" + a.AccountID + "/2026-11-16", Assessment: a, CSMLanguage: tc.csmLang}
			d, err := NewOffline().Draft(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if problems := Validate(req, d); len(problems) > 0 {
				t.Fatalf("offline draft fails validation:\n%s\n\nbrief:\n%s\n\noutreach:\n%s", strings.Join(problems, "\n"), d.Brief, d.Outreach.Body)
			}
			if d.Drafter != "offline" || d.PromptVersion != prompts.Version {
				t.Errorf("drafter %q version %q", d.Drafter, d.PromptVersion)
			}
			if n := countWords(d.Outreach.Body); n > MaxOutreachWords {
				t.Errorf("outreach has %d words", n)
			}
			if !strings.Contains(d.Outreach.Body, a.SuccessGoal) {
				t.Errorf("outreach does not quote the success goal %q:\n%s", a.SuccessGoal, d.Outreach.Body)
			}
			if !strings.Contains(d.Outreach.Body, "{{calendar_link}}") {
				t.Errorf("outreach has no calendar placeholder:\n%s", d.Outreach.Body)
			}
			if d.Outreach.Language != tc.wantMailLang {
				t.Errorf("outreach language %q, want %q", d.Outreach.Language, tc.wantMailLang)
			}
			lower := strings.ToLower(d.Outreach.Body)
			for _, bad := range []string{"haven't logged in", "noticed you", "没有登录", "38%", "83"} {
				if strings.Contains(lower, bad) {
					t.Errorf("outreach contains %q:\n%s", bad, d.Outreach.Body)
				}
			}
			if !strings.Contains(d.Brief, tc.suspectedWord) {
				t.Errorf("brief does not mark the cause as suspected (%q)", tc.suspectedWord)
			}
			// Every signal is cited, and nothing else.
			want := []string{"login_drop", "exec_silence", "critical_ticket_open", "goal_off_track", "renewal_near"}
			if !reflect.DeepEqual(d.BriefCitations, want) {
				t.Errorf("brief citations %v, want %v", d.BriefCitations, want)
			}
			if len(d.SavePlan) < 4 || len(d.SavePlan) > 7 {
				t.Errorf("plan has %d steps", len(d.SavePlan))
			}
			for _, st := range d.SavePlan {
				if st.Owner == "" || st.Action == "" || len(st.TalkingPoints) == 0 {
					t.Errorf("incomplete step %+v", st)
				}
			}
			if d.SavePlan[0].Day != 0 || d.SavePlan[len(d.SavePlan)-1].Day != 14 {
				t.Errorf("plan runs day %d..%d, want 0..14", d.SavePlan[0].Day, d.SavePlan[len(d.SavePlan)-1].Day)
			}
			if len(d.CallAgenda) < 3 {
				t.Errorf("agenda %v", d.CallAgenda)
			}
			// Deterministic.
			again, _ := NewOffline().Draft(context.Background(), req)
			if !reflect.DeepEqual(d, again) {
				t.Error("two offline drafts of the same request differ")
			}
			if testing.Verbose() {
				b, _ := json.MarshalIndent(d, "", "  ")
				t.Logf("%s", b)
			}
		})
	}
}

func TestOfflineDraftSparseEvidence(t *testing.T) {
	a := loadAssessment(t, "assessment_en.json")
	a.SuccessGoal, a.GoalStatus, a.Language, a.RenewalDate, a.ARR = "", "", "pt-BR", "", 0
	a.Signals = a.Signals[:1]
	a.Missing = []string{"nps", "last_exec_contact", "renewal_date"}
	req := Request{Assessment: a, CSMLanguage: "fr", CalendarLink: "https://cal.example.com/dana/30min"}
	d, err := NewOffline().Draft(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if problems := Validate(req, d); len(problems) > 0 {
		t.Fatalf("offline draft fails validation:\n%s\n%s", strings.Join(problems, "\n"), d.Brief)
	}
	if !strings.Contains(d.Outreach.Body, req.CalendarLink) {
		t.Errorf("outreach lacks the calendar link:\n%s", d.Outreach.Body)
	}
	if !strings.Contains(d.Brief, "last_exec_contact") || !strings.Contains(d.Brief, "not zero") {
		t.Errorf("brief does not report the missing evidence:\n%s", d.Brief)
	}
	notes := strings.Join(d.Notes, "\n")
	for _, want := range []string{`"fr"`, `"pt-BR"`, "No success goal"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes %q lack %s", notes, want)
		}
	}
	if len(d.SavePlan) < 4 {
		t.Errorf("plan has %d steps", len(d.SavePlan))
	}
}

func TestOfflineLongGoalStaysWithinLimit(t *testing.T) {
	a := loadAssessment(t, "assessment_en.json")
	a.SuccessGoal = strings.Repeat("streamline every regional warehouse workflow end to end ", 20)
	req := Request{Assessment: a}
	d, err := NewOffline().Draft(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if n := countWords(d.Outreach.Body); n > MaxOutreachWords {
		t.Fatalf("outreach has %d words:\n%s", n, d.Outreach.Body)
	}
	if !mentionsGoal(d.Outreach.Body, a.SuccessGoal) {
		t.Errorf("shortened outreach no longer refers to the goal:\n%s", d.Outreach.Body)
	}
}

var _ Drafter = (*Offline)(nil)
var _ = review.Draft{}
