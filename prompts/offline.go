package prompts

// SignalView is one signal as the offline templates see it.
type SignalView struct {
	ID        string
	Dimension string
	Points    int
	Text      string
	Field     string // the source field(s), comma separated
	Weeks     []string
	Values    []float64
	Window    string
}

// StepView is the save-plan step a "step_*" or "points_*" template renders.
type StepView struct {
	Kind    string
	Day     int
	Owner   string
	Signals []SignalView // the evidence the step acts on
}

// OfflineData is what every offline template is executed with. The drafter
// fills it from the assessment alone, so every number a template prints is
// a number from the evidence.
type OfflineData struct {
	AccountID   string
	AccountName string
	AsOf        string
	Owner       string // the CSM who owns the account
	Manager     string // who an escalation goes to; may be empty
	Tier        string
	Score       int
	Priority    int
	SLAHours    int
	ARR         float64
	RenewalDate string
	// DaysToRenewal counts days from AsOf to RenewalDate; meaningful only
	// when RenewalDate is set. The drafter adds it to the evidence it
	// validates against, so the brief may quote it.
	DaysToRenewal int
	Strategic     bool

	SuccessGoal string
	GoalStatus  string // on_track, at_risk, off_track or empty

	Signals []SignalView // most points first
	Top     SignalView   // the signal with the most points
	Flagged []SignalView // stakeholder silence and support signals, always called out
	Missing []string     // fields the model wanted and did not get

	Cause        string // dimension of the suspected cause: usage, relationship, support, commercial, outcome
	CauseSignals []SignalView

	CalendarLink string
	Step         StepView // set while rendering one plan step
}
