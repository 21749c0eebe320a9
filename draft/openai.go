package draft

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/churnwatch/churnwatch/prompts"
	"github.com/churnwatch/churnwatch/review"
)

// OpenAIConfig configures the LLM drafter for any OpenAI-compatible
// endpoint: OpenAI, Azure OpenAI (a BaseURL on *.openai.azure.com, Model
// naming the deployment), Ollama, vLLM or LM Studio (e.g.
// http://127.0.0.1:11434/v1).
type OpenAIConfig struct {
	BaseURL string
	APIKey  string // never logged
	Model   string
	// Timeout bounds one call; zero means 60 seconds.
	Timeout time.Duration
	// MaxTokens caps the answer; zero means 2048.
	MaxTokens int
	// RedactPatterns are extra Go regexps whose matches are replaced by
	// placeholders before a request leaves the process, as LABEL=regex to
	// name the placeholder ([LABEL_1]) or a bare regex ([PII_1]). E-mail
	// addresses and phone numbers are always redacted.
	RedactPatterns []string
}

// OpenAI drafts with an LLM through the chat completions API. It does not
// retry: a failed call returns a *CallError and the Temporal activity
// decides (see RetryAfter, IsPermanent, IsTransient). It does not validate
// the draft against the evidence either; Guarded does. It is safe for
// concurrent use.
type OpenAI struct {
	cfg      OpenAIConfig
	client   *openai.Client
	redactor *Redactor
	schema   *schema

	// Learned from the server: once it rejects json_schema or max_tokens,
	// later calls use JSON mode or max_completion_tokens straight away.
	noSchema    atomic.Bool
	noMaxTokens atomic.Bool
}

// NewOpenAI checks the configuration and builds the client.
func NewOpenAI(cfg OpenAIConfig) (*OpenAI, error) {
	if strings.TrimSpace(cfg.Model) == "" {
		return nil, fmt.Errorf("%w: no model", ErrConfig)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 60 * time.Second
	}
	if cfg.MaxTokens <= 0 {
		cfg.MaxTokens = 2048
	}
	redactor, err := NewRedactor(cfg.RedactPatterns)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	sch, err := parseSchema(prompts.DraftSchema)
	if err != nil {
		return nil, err
	}

	var cc openai.ClientConfig
	base := strings.TrimRight(strings.TrimSpace(cfg.BaseURL), "/")
	u, err := url.Parse(base)
	if base != "" && (err != nil || u.Scheme == "" || u.Host == "") {
		return nil, fmt.Errorf("%w: base URL %q is not an absolute URL", ErrConfig, cfg.BaseURL)
	}
	if base != "" && strings.HasSuffix(u.Hostname(), ".openai.azure.com") {
		cc = openai.DefaultAzureConfig(cfg.APIKey, base)
	} else {
		cc = openai.DefaultConfig(cfg.APIKey)
		if base != "" {
			cc.BaseURL = base
		}
	}
	// No retries here (go-openai makes none) and a transport that keeps the
	// Retry-After header, which go-openai's errors drop.
	cc.HTTPClient = &http.Client{Timeout: cfg.Timeout, Transport: headerTransport{base: http.DefaultTransport}}

	return &OpenAI{cfg: cfg, client: openai.NewClientWithConfig(cc), redactor: redactor, schema: sch}, nil
}

// Name is the Drafter value of this drafter's drafts.
func (o *OpenAI) Name() string { return "llm:" + o.cfg.Model }

// answer is the JSON the model returns (prompts.DraftSchema).
type answer struct {
	Brief          string            `json:"brief"`
	BriefCitations []string          `json:"brief_citations"`
	SuspectedCause string            `json:"suspected_cause"`
	SavePlan       []review.PlanStep `json:"save_plan"`
	Outreach       struct {
		Subject string `json:"subject"`
		Body    string `json:"body"`
	} `json:"outreach"`
	CallAgenda []string `json:"call_agenda"`
}

// Draft asks the model for a draft. Personal data is redacted from the
// request and restored in the draft. A call that fails returns *CallError;
// an answer that is not a schema-valid draft returns *OutputError.
func (o *OpenAI) Draft(ctx context.Context, req Request) (review.Draft, error) {
	rd := NewRedaction()
	msgs, err := o.messages(req, rd)
	if err != nil {
		return review.Draft{}, err
	}
	resp, err := o.complete(ctx, msgs)
	if err != nil {
		return review.Draft{}, err
	}
	tokens := resp.Usage.TotalTokens
	if len(resp.Choices) == 0 {
		return review.Draft{}, &OutputError{Problems: []string{"the answer has no choices"}, TokensUsed: tokens}
	}
	raw := resp.Choices[0].Message.Content
	ans, problems := o.decode(raw)
	if len(problems) > 0 {
		return review.Draft{}, &OutputError{Problems: problems, Raw: raw, TokensUsed: tokens}
	}

	lang := strings.TrimSpace(req.Assessment.Language)
	if lang == "" {
		lang = string(prompts.English)
	}
	d := review.Draft{
		Brief:          rd.Restore(ans.Brief),
		BriefCitations: ans.BriefCitations,
		SuspectedCause: rd.Restore(ans.SuspectedCause),
		Outreach:       review.Email{Language: lang, Subject: rd.Restore(ans.Outreach.Subject), Body: rd.Restore(ans.Outreach.Body)},
		Drafter:        o.Name(),
		PromptVersion:  prompts.Version,
		TokensUsed:     tokens,
	}
	for _, st := range ans.SavePlan {
		st.Action, st.Owner = rd.Restore(st.Action), rd.Restore(st.Owner)
		for i := range st.TalkingPoints {
			st.TalkingPoints[i] = rd.Restore(st.TalkingPoints[i])
		}
		d.SavePlan = append(d.SavePlan, st)
	}
	for _, item := range ans.CallAgenda {
		d.CallAgenda = append(d.CallAgenda, rd.Restore(item))
	}
	return d, nil
}

// messages builds the conversation. The evidence and the notes travel as
// JSON inside fenced, labelled blocks of the user message; the system
// message says they are data. Everything that could carry personal data is
// redacted here, before the request is built.
func (o *OpenAI) messages(req Request, rd *Redaction) ([]openai.ChatCompletionMessage, error) {
	a := req.Assessment
	ev := newEvidence(a)
	evidenceJSON, err := json.MarshalIndent(newEvidenceDoc(a, req.owner(), ev), "", "  ")
	if err != nil {
		return nil, fmt.Errorf("draft: evidence json: %w", err)
	}
	notes := a.Notes
	if notes == nil {
		notes = []string{}
	}
	notesJSON, err := json.MarshalIndent(notes, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("draft: notes json: %w", err)
	}
	mailLang := a.Language
	if strings.TrimSpace(mailLang) == "" {
		mailLang = string(prompts.English)
	}
	briefLang := req.CSMLanguage
	if strings.TrimSpace(briefLang) == "" {
		briefLang = string(prompts.English)
	}
	system, err := prompts.System(prompts.SystemData{
		OutreachLanguage: mailLang,
		BriefLanguage:    briefLang,
		CalendarLink:     req.calendarLink(),
		MaxWords:         MaxOutreachWords,
	})
	if err != nil {
		return nil, err
	}
	user, err := prompts.User(prompts.UserData{
		ReviewID: req.ReviewID,
		Owner:    req.owner(),
		Evidence: fenceSafe(string(evidenceJSON)),
		Notes:    fenceSafe(string(notesJSON)),
	})
	if err != nil {
		return nil, err
	}
	msgs := []openai.ChatCompletionMessage{
		{Role: openai.ChatMessageRoleSystem, Content: system},
		{Role: openai.ChatMessageRoleUser, Content: o.redactor.Redact(user, rd)},
	}
	if len(req.Feedback) > 0 {
		repair, err := prompts.Repair(req.Feedback)
		if err != nil {
			return nil, err
		}
		if req.Previous != "" {
			msgs = append(msgs, openai.ChatCompletionMessage{Role: openai.ChatMessageRoleAssistant, Content: o.redactor.Redact(req.Previous, rd)})
		}
		msgs = append(msgs, openai.ChatCompletionMessage{Role: openai.ChatMessageRoleUser, Content: o.redactor.Redact(repair, rd)})
	}
	return msgs, nil
}

// fenceSafe keeps quoted text from closing the ``` fence it sits in: JSON
// allows a backtick to be written as \u0060.
func fenceSafe(js string) string { return strings.ReplaceAll(js, "`", `\u0060`) }

func (o *OpenAI) complete(ctx context.Context, msgs []openai.ChatCompletionMessage) (openai.ChatCompletionResponse, error) {
	for {
		useSchema, useMaxTokens := !o.noSchema.Load(), !o.noMaxTokens.Load()
		creq := openai.ChatCompletionRequest{Model: o.cfg.Model, Messages: msgs}
		if useMaxTokens {
			creq.MaxTokens = o.cfg.MaxTokens
		} else {
			creq.MaxCompletionTokens = o.cfg.MaxTokens
		}
		if useSchema {
			creq.ResponseFormat = &openai.ChatCompletionResponseFormat{
				Type: openai.ChatCompletionResponseFormatTypeJSONSchema,
				JSONSchema: &openai.ChatCompletionResponseFormatJSONSchema{
					Name:   "churnwatch_draft",
					Schema: json.RawMessage(prompts.DraftSchema),
					Strict: true,
				},
			}
		} else {
			creq.ResponseFormat = &openai.ChatCompletionResponseFormat{Type: openai.ChatCompletionResponseFormatTypeJSONObject}
		}

		hdr := &retryHeader{}
		cctx, cancel := context.WithTimeout(context.WithValue(ctx, retryHeaderKey{}, hdr), o.cfg.Timeout)
		resp, err := o.client.CreateChatCompletion(cctx, creq)
		cancel()
		if err == nil {
			return resp, nil
		}
		switch {
		case useSchema && rejects(err, "response_format", "json_schema"):
			o.noSchema.Store(true)
			continue
		case useMaxTokens && rejects(err, "max_tokens"):
			o.noMaxTokens.Store(true)
			continue
		}
		return openai.ChatCompletionResponse{}, &CallError{Model: o.cfg.Model, StatusCode: statusCode(err), RetryAfter: hdr.after, Err: err, apiKey: o.cfg.APIKey}
	}
}

// rejects reports whether err is the server refusing a request parameter
// (400 or 422 naming one of words).
func rejects(err error, words ...string) bool {
	code := statusCode(err)
	if code != http.StatusBadRequest && code != http.StatusUnprocessableEntity {
		return false
	}
	msg := strings.ToLower(err.Error())
	var ae *openai.APIError
	if errors.As(err, &ae) && ae.Param != nil {
		msg += " " + strings.ToLower(*ae.Param)
	}
	for _, w := range words {
		if strings.Contains(msg, w) {
			return true
		}
	}
	return false
}

// decode parses the model's answer and checks it against the schema. Local
// models in JSON mode sometimes wrap the object in a ```json fence; that is
// tolerated, anything else is a problem.
func (o *OpenAI) decode(raw string) (answer, []string) {
	s := strings.TrimSpace(raw)
	if strings.HasPrefix(s, "```") {
		s = strings.TrimPrefix(s, "```json")
		s = strings.TrimPrefix(s, "```")
		s = strings.TrimSuffix(strings.TrimSpace(s), "```")
	}
	var generic any
	if err := json.Unmarshal([]byte(s), &generic); err != nil {
		return answer{}, []string{fmt.Sprintf("the answer is not JSON: %v", err)}
	}
	if problems := o.schema.check("$", generic); len(problems) > 0 {
		return answer{}, problems
	}
	var ans answer
	if err := json.Unmarshal([]byte(s), &ans); err != nil {
		return answer{}, []string{fmt.Sprintf("the answer does not fit the draft: %v", err)}
	}
	return ans, nil
}
