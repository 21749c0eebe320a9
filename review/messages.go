package review

// The workflows' own messages (their inputs and results, the activities'
// requests, the names of the updates, signals and queries) live beside the
// workflows, in package workflows. The plain data below is the review's
// own: the store, the notice channels and the lists read it too.

// Item is one review as lists show it: `starter reviews list --json` and
// GET /api/reviews print these fields (a contract).
type Item struct {
	ReviewID  string `json:"review_id"`
	AccountID string `json:"account_id"`
	Tier      string `json:"tier"`
	Score     int    `json:"score"`
	State     string `json:"state"`
	Owner     string `json:"owner"`
}

// Progress records what happened after approval, before the outcome.
type Progress struct {
	Kind  EventKind `json:"kind"` // outreach_sent or customer_responded
	Actor string    `json:"actor"`
	Note  string    `json:"note,omitempty"`
	// Authority is set by the worker's decision service, as on Decision.
	Authority string `json:"authority,omitempty"`
}

// Notice is a message to a person: a reminder, an escalation or a request.
// Notices go to people inside the team, never to the customer. The store's
// outbox holds them until the webhook, Slack and email have them.
type Notice struct {
	ReviewID string    `json:"review_id"`
	To       string    `json:"to"`
	Kind     EventKind `json:"kind"`
	Message  string    `json:"message"`
}
