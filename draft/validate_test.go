package draft

import (
	"context"
	"strings"
	"testing"

	"github.com/churnwatch/churnwatch/review"
)

func TestValidateCatches(t *testing.T) {
	req := enRequest(t)
	good, err := NewOffline().Draft(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		change func(d *review.Draft)
		want   string
	}{
		{"invented number", func(d *review.Draft) { d.Brief += "\nLogins fell 61% [login_drop]." }, "number 61"},
		{"invented date", func(d *review.Draft) { d.Brief += "\nThe champion left on 2026-09-30 [exec_silence]." }, "date 2026-09-30"},
		{"uncited figure", func(d *review.Draft) { d.Brief += "\nLogins fell 38% over 3 weeks." }, "cites no evidence id"},
		{"unknown id", func(d *review.Draft) { d.Brief += "\nSee [nps_collapse]." }, `"nps_collapse"`},
		{"healthy claim", func(d *review.Draft) { d.Brief += "\nOverall the account is healthy." }, "healthy"},
		{"no suspected cause", func(d *review.Draft) {
			d.Brief = strings.NewReplacer("Suspected", "Root", "suspected", "known", "not confirmed", "", "hypothesis", "fact").Replace(d.Brief)
		}, "suspected"},
		{"support not flagged", func(d *review.Draft) { d.Brief = strings.ReplaceAll(d.Brief, "[critical_ticket_open]", "") }, "always flagged"},
		{"plan too short", func(d *review.Draft) { d.SavePlan = d.SavePlan[:3] }, "4 to 7"},
		{"plan out of order", func(d *review.Draft) { d.SavePlan[1].Day = 0; d.SavePlan[0].Day = 9 }, "day order"},
		{"plan day beyond 14", func(d *review.Draft) { d.SavePlan[len(d.SavePlan)-1].Day = 21 }, "day 21"},
		{"plan without owner", func(d *review.Draft) { d.SavePlan[2].Owner = " " }, "no owner"},
		{"long email", func(d *review.Draft) { d.Outreach.Body += strings.Repeat(" more words", 80) }, "words; the limit"},
		{"no calendar link", func(d *review.Draft) {
			d.Outreach.Body = strings.ReplaceAll(d.Outreach.Body, "{{calendar_link}}", "soon")
		}, "call to action"},
		{"goal not mentioned", func(d *review.Draft) {
			d.Outreach.Body = "Hi team, could we talk? {{calendar_link}}"
			d.Outreach.Subject = "Hello"
		}, "success goal"},
		{"generic login nag", func(d *review.Draft) {
			d.Outreach.Body = "We noticed you haven't logged in recently. " + d.Outreach.Body
		}, "generic"},
		{"discount", func(d *review.Draft) { d.Outreach.Body += "\nWe can also offer a discount." }, "concession"},
		{"citation in email", func(d *review.Draft) { d.Outreach.Body += " [login_drop]" }, "must not carry evidence citations"},
		{"short agenda", func(d *review.Draft) { d.CallAgenda = d.CallAgenda[:2] }, "at least 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := good
			d.SavePlan = append(d.SavePlan[:0:0], good.SavePlan...)
			d.CallAgenda = append(d.CallAgenda[:0:0], good.CallAgenda...)
			tc.change(&d)
			problems := strings.Join(Validate(req, d), "\n")
			if !strings.Contains(problems, tc.want) {
				t.Errorf("problems do not mention %q:\n%s", tc.want, problems)
			}
		})
	}
}

func TestValidateAllowsEvidenceForms(t *testing.T) {
	req := enRequest(t)
	d, _ := NewOffline().Draft(context.Background(), req)
	d.Brief += "\nARR is $184k and logins were 120 then 74, 38% lower; the renewal is on 2027-01-22 [account, login_drop]." +
		"\nContact priya.raman@northwind.example or +1 415 555 0142 before the call."
	if p := Validate(req, d); len(p) > 0 {
		t.Errorf("valid forms rejected: %v", p)
	}
}

func TestExtractNumbers(t *testing.T) {
	got := []string{}
	for _, n := range extractNumbers("Q3 B2B [EMAIL_1] fell 38% from 1,200 to 74.5 (ARR $184k); 下降38%，第3天 2026-11-16") {
		got = append(got, n.text)
	}
	if strings.Join(got, " ") != "38 1,200 74.5 184k 38 3" {
		t.Errorf("numbers %q", got)
	}
}

func TestCountWords(t *testing.T) {
	for s, want := range map[string]int{
		"Hi Priya, could we meet? {{calendar_link}}": 6,
		"合作之初，您的目标很明确":                               11,
		"a 30-minute session":                        3,
	} {
		if got := countWords(s); got != want {
			t.Errorf("countWords(%q) = %d, want %d", s, got, want)
		}
	}
}

func TestSentences(t *testing.T) {
	got := sentences("Logins fell 38%. [login_drop] DAU/MAU is 0.42 [x]. Next one!\n第一句。第二句 [a]。")
	want := []string{"Logins fell 38%. [login_drop] DAU/MAU is 0.42 [x].", "Next one!", "第一句。", "第二句 [a]。"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("sentences %q, want %q", got, want)
	}
}

func TestRedactor(t *testing.T) {
	r, err := NewRedactor([]string{`ACCT=\bACCT-\d{6}\b`})
	if err != nil {
		t.Fatal(err)
	}
	rd := NewRedaction()
	in := "Mail ann@example.com or bob@x.io, call +1 (415) 555-0100, 415.555.0199 or 13800138000; ann@example.com again; ACCT-123456; week 2026-11-16, ARR 1,200,000, values 120 74."
	out := r.Redact(in, rd)
	for _, leaked := range []string{"ann@", "bob@", "555", "13800138000", "123456"} {
		if strings.Contains(out, leaked) {
			t.Errorf("%q leaked: %s", leaked, out)
		}
	}
	for _, kept := range []string{"2026-11-16", "1,200,000", "120 74", "[EMAIL_1] again", "[EMAIL_2]", "[PHONE_3]", "[ACCT_1]"} {
		if !strings.Contains(out, kept) {
			t.Errorf("%q missing: %s", kept, out)
		}
	}
	if back := rd.Restore(out); back != in {
		t.Errorf("restore:\n got %s\nwant %s", back, in)
	}
}

func TestRetryAfterParsing(t *testing.T) {
	if _, ok := RetryAfter(nil); ok {
		t.Error("nil error has a retry delay")
	}
	if IsTransient(nil) || IsPermanent(nil) {
		t.Error("nil error classified")
	}
}
