package risk

// Dimension names, as they appear in Signal.Dimension and Assessment.Dimensions.
const (
	DimUsage        = "usage"
	DimRelationship = "relationship"
	DimSupport      = "support"
	DimCommercial   = "commercial"
	DimOutcome      = "outcome"
)

var dimensionNames = [...]string{DimUsage, DimRelationship, DimSupport, DimCommercial, DimOutcome}

type namedDimension struct {
	name string
	dim  Dimension
}

func (m Model) dimensionList() [len(dimensionNames)]namedDimension {
	d := m.Dimensions
	return [...]namedDimension{
		{DimUsage, d.Usage}, {DimRelationship, d.Relationship}, {DimSupport, d.Support},
		{DimCommercial, d.Commercial}, {DimOutcome, d.Outcome},
	}
}

func dimensionIndex(name string) int {
	for i, n := range dimensionNames {
		if n == name {
			return i
		}
	}
	return -1
}

// Signal ids. They double as the evidence ids drafts cite.
const (
	SigLoginDrop              = "login_drop"
	SigActiveUsersDrop        = "active_users_drop"
	SigDAUMAUDecline          = "dau_mau_decline"
	SigUsageSlide             = "usage_slide"
	SigFeatureAdoptionDecline = "feature_adoption_decline"
	SigSeatUtilisationLow     = "seat_utilisation_low"
	SigUsersDeactivated       = "users_deactivated"
	SigChampionDeparted       = "champion_departed"
	SigExecSponsorSilence     = "exec_sponsor_silence"
	SigCSMContactGap          = "csm_contact_gap"
	SigNPSLow                 = "nps_low"
	SigNPSDrop                = "nps_drop"
	SigCriticalTicketOpen     = "critical_ticket_open"
	SigUnresolvedTickets      = "unresolved_tickets"
	SigEscalations            = "escalations"
	SigIntegrationErrors      = "integration_errors"
	SigInvoiceOverdue         = "invoice_overdue"
	SigDowngradeRequested     = "downgrade_requested"
	SigGoalAtRisk             = "goal_at_risk"
	SigGoalOffTrack           = "goal_off_track"
	SigTicketVolumeRising     = "ticket_volume_rising"
	SigLoginRecency           = "login_recency"
	SigNPSNoResponse          = "nps_no_response"
	SigARRDecline             = "arr_decline"
	SigMeetingsMissed         = "meetings_missed"
)

type measureKind int

const (
	fractionDrop measureKind = iota // a fraction below the account's own baseline
	amount                          // a count, a number of days, a level
	yesNo                           // fires or not
)

// signalDef describes one signal. Signals in the same group overlap (they
// read the same underlying behaviour), so only the strongest of a group
// counts; different groups add up within their dimension.
type signalDef struct {
	id           string
	dimension    string
	group        string
	kind         measureKind
	lowerIsWorse bool
	// alwaysFlag signals are listed whenever their condition holds, even
	// when configured to zero points: stakeholder silence and unresolved
	// support issues must always reach the CSM.
	alwaysFlag bool
	rule       func(*Signals) *Rule
}

var signalDefs = [...]signalDef{
	{id: SigLoginDrop, dimension: DimUsage, group: "activity", kind: fractionDrop, rule: func(s *Signals) *Rule { return &s.LoginDrop }},
	{id: SigActiveUsersDrop, dimension: DimUsage, group: "activity", kind: fractionDrop, rule: func(s *Signals) *Rule { return &s.ActiveUsersDrop }},
	{id: SigDAUMAUDecline, dimension: DimUsage, group: "activity", kind: fractionDrop, rule: func(s *Signals) *Rule { return &s.DAUMAUDecline }},
	{id: SigUsageSlide, dimension: DimUsage, group: "slide", kind: amount, rule: func(s *Signals) *Rule { return &s.UsageSlide }},
	{id: SigFeatureAdoptionDecline, dimension: DimUsage, group: "adoption", kind: fractionDrop, rule: func(s *Signals) *Rule { return &s.FeatureAdoptionDecline }},
	{id: SigSeatUtilisationLow, dimension: DimUsage, group: "activity", kind: amount, lowerIsWorse: true, rule: func(s *Signals) *Rule { return &s.SeatUtilisationLow }},
	{id: SigUsersDeactivated, dimension: DimRelationship, group: "users", kind: amount, rule: func(s *Signals) *Rule { return &s.UsersDeactivated }},
	{id: SigChampionDeparted, dimension: DimRelationship, group: "champion", kind: amount, alwaysFlag: true, rule: func(s *Signals) *Rule { return &s.ChampionDeparted }},
	{id: SigExecSponsorSilence, dimension: DimRelationship, group: "sponsor", kind: amount, alwaysFlag: true, rule: func(s *Signals) *Rule { return &s.ExecSponsorSilence }},
	{id: SigCSMContactGap, dimension: DimRelationship, group: "contact", kind: amount, alwaysFlag: true, rule: func(s *Signals) *Rule { return &s.CSMContactGap }},
	{id: SigNPSLow, dimension: DimRelationship, group: "sentiment", kind: amount, lowerIsWorse: true, rule: func(s *Signals) *Rule { return &s.NPSLow }},
	{id: SigNPSDrop, dimension: DimRelationship, group: "sentiment", kind: amount, rule: func(s *Signals) *Rule { return &s.NPSDrop }},
	{id: SigCriticalTicketOpen, dimension: DimSupport, group: "tickets", kind: amount, alwaysFlag: true, rule: func(s *Signals) *Rule { return &s.CriticalTicketOpen }},
	{id: SigUnresolvedTickets, dimension: DimSupport, group: "tickets", kind: amount, alwaysFlag: true, rule: func(s *Signals) *Rule { return &s.UnresolvedTickets }},
	{id: SigEscalations, dimension: DimSupport, group: "escalations", kind: amount, alwaysFlag: true, rule: func(s *Signals) *Rule { return &s.Escalations }},
	{id: SigIntegrationErrors, dimension: DimSupport, group: "integrations", kind: amount, rule: func(s *Signals) *Rule { return &s.IntegrationErrors }},
	{id: SigInvoiceOverdue, dimension: DimCommercial, group: "billing", kind: amount, rule: func(s *Signals) *Rule { return &s.InvoiceOverdue }},
	{id: SigDowngradeRequested, dimension: DimCommercial, group: "downgrade", kind: yesNo, rule: func(s *Signals) *Rule { return &s.DowngradeRequested }},
	{id: SigGoalAtRisk, dimension: DimOutcome, group: "goal", kind: yesNo, rule: func(s *Signals) *Rule { return &s.GoalAtRisk }},
	{id: SigGoalOffTrack, dimension: DimOutcome, group: "goal", kind: yesNo, rule: func(s *Signals) *Rule { return &s.GoalOffTrack }},
	// Signals of the optional columns. Each joins the group of the
	// behaviour it reads, so that it adds evidence where the v1 columns
	// are missing and does not count the same behaviour twice where they
	// are not: no login for weeks is the activity logins already show, a
	// cut in ARR is the downgrade asked for, missed meetings are the
	// contact gap, a survey left unanswered is the sentiment an answer
	// would have given.
	{id: SigTicketVolumeRising, dimension: DimSupport, group: "volume", kind: amount, rule: func(s *Signals) *Rule { return &s.TicketVolumeRising }},
	{id: SigLoginRecency, dimension: DimUsage, group: "activity", kind: amount, rule: func(s *Signals) *Rule { return &s.LoginRecency }},
	{id: SigNPSNoResponse, dimension: DimRelationship, group: "sentiment", kind: amount, rule: func(s *Signals) *Rule { return &s.NPSNoResponse }},
	{id: SigARRDecline, dimension: DimCommercial, group: "downgrade", kind: fractionDrop, rule: func(s *Signals) *Rule { return &s.ARRDecline }},
	{id: SigMeetingsMissed, dimension: DimRelationship, group: "contact", kind: amount, rule: func(s *Signals) *Rule { return &s.MeetingsMissed }},
}

func signalDefByID(id string) *signalDef {
	for i := range signalDefs {
		if signalDefs[i].id == id {
			return &signalDefs[i]
		}
	}
	return nil
}

// SignalIDs lists every signal the model can raise.
func SignalIDs() []string {
	ids := make([]string, len(signalDefs))
	for i, d := range signalDefs {
		ids[i] = d.id
	}
	return ids
}
