package alerting

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/models"
)

// Limits of the free-text acknowledgement fields, in characters.
const (
	MaxExternalRefLength = 200
	MaxNotesLength       = 2000
)

// AcknowledgementStates lists the states a user may send, default first.
func AcknowledgementStates() []string {
	return []string{models.AcknowledgementAcknowledged, models.AcknowledgementDismissed,
		models.AcknowledgementEscalated, models.AcknowledgementResolved}
}

// ClosesOutstanding reports whether state closes an outstanding item. Only
// acknowledged and resolved do; dismissed and escalated keep it outstanding.
func ClosesOutstanding(state string) bool {
	return slices.Contains(models.ClosedAcknowledgementStates, state)
}

// AcknowledgeRequest is one acknowledgement action by one destination.
type AcknowledgeRequest struct {
	HealthID string
	Provider string
	// State is empty for the default, acknowledged.
	State string
	// ExternalRef replaces the current ticket reference when it is not
	// empty. An empty one keeps the current reference unless
	// ClearExternalRef is set, which removes it.
	ExternalRef      string
	ClearExternalRef bool
	Notes            string
	// PlanID optionally names the plan acted on; it must be a plan of the
	// health snapshot.
	PlanID string
	Actor  string
}

// Validate checks the fields and returns a *FieldError naming the first
// invalid one. It lower-cases the provider and fills the default state.
func (r *AcknowledgeRequest) Validate() error {
	r.Provider = strings.ToLower(strings.TrimSpace(r.Provider))
	r.ExternalRef = strings.TrimSpace(r.ExternalRef)
	r.State = strings.TrimSpace(r.State)
	if r.Provider == "" {
		return fieldErrorf("provider", "provider is missing; send the destination name the alert was sent to")
	}
	if r.ClearExternalRef && r.ExternalRef != "" {
		return fieldErrorf("external_ref", "external_ref %q cannot be cleared and set at once; send an empty external_ref to clear the reference", r.ExternalRef)
	}
	if r.State == "" {
		r.State = models.AcknowledgementAcknowledged
	}
	if !slices.Contains(AcknowledgementStates(), r.State) {
		return fieldErrorf("acknowledgement_state", "acknowledgement_state %q is not valid; send one of %s",
			r.State, strings.Join(AcknowledgementStates(), ", "))
	}
	if n := utf8.RuneCountInString(r.ExternalRef); n > MaxExternalRefLength {
		return fieldErrorf("external_ref", "external_ref is %d characters long; the limit is %d", n, MaxExternalRefLength)
	}
	if n := utf8.RuneCountInString(r.Notes); n > MaxNotesLength {
		return fieldErrorf("notes", "notes are %d characters long; the limit is %d", n, MaxNotesLength)
	}
	if !utf8.ValidString(r.ExternalRef) || !utf8.ValidString(r.Notes) {
		return fieldErrorf("notes", "external_ref and notes must be valid UTF-8 text")
	}
	if c, found := connectors.FirstControlOrSeparator(r.ExternalRef); found {
		return fieldErrorf("external_ref", "external_ref contains the %s; send one line of plain text, such as OPS-1",
			connectors.DescribeControlOrSeparator(c))
	}
	if c, found := firstRune(r.ExternalRef, isBidiControl); found {
		return fieldErrorf("external_ref", "external_ref contains the text-direction character %U; send one line of plain text, such as OPS-1", c)
	}
	lineBreakOrTab := func(c rune) bool { return c == '\n' || c == '\r' || c == '\t' }
	if c, found := firstRune(r.Notes, func(c rune) bool { return (unicode.IsControl(c) && !lineBreakOrTab(c)) || isBidiControl(c) }); found {
		return fieldErrorf("notes", "notes contain the control character %U; send plain text (line breaks and tabs are fine)", c)
	}
	for _, field := range []struct{ name, text string }{{"external_ref", r.ExternalRef}, {"notes", r.Notes}} {
		if problem := linkProblem(field.text); problem != "" {
			return fieldErrorf(field.name, "%s contains %s, which would be stored and shown; "+
				"send the link without it, such as https://tickets.example/browse/OPS-1", field.name, problem)
		}
	}
	return nil
}

// firstRune returns the first character of s that match accepts.
func firstRune(s string, match func(rune) bool) (rune, bool) {
	for _, c := range s {
		if match(c) {
			return c, true
		}
	}
	return 0, false
}

// isBidiControl reports whether c changes the direction of the text around
// it, which can make a page show text in another order than it is stored.
func isBidiControl(c rune) bool {
	return (c >= '\u202a' && c <= '\u202e') || (c >= '\u2066' && c <= '\u2069') || c == '\u200e' || c == '\u200f'
}

// linkPattern finds links in free text.
var linkPattern = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^\s<>"']+`)

// linkProblem describes the first link in text that can carry a
// credential, or returns "": one with user information, a query string or
// a fragment with a value (such as #access_token=…), where links carry
// tokens and passwords, or one that cannot be read to tell.
func linkProblem(text string) string {
	for _, link := range linkPattern.FindAllString(text, -1) {
		parsed, err := url.Parse(link)
		switch {
		case err != nil:
			return "a link that cannot be read as a URL"
		case parsed.User != nil:
			return "a link with a user name or password"
		case parsed.RawQuery != "" || parsed.ForceQuery:
			return "a link with a query string, which can carry a token"
		case strings.Contains(parsed.Fragment, "="):
			return "a link whose fragment holds a value, which can carry a token"
		}
	}
	return ""
}

// checkAcknowledgement validates req, which it normalises, and rejects
// credentials in its text fields.
func (s *Service) checkAcknowledgement(req *AcknowledgeRequest) error {
	if err := req.Validate(); err != nil {
		return err
	}
	return s.rejectCredentials(*req)
}

// CheckAcknowledgement validates req as Acknowledge does, and stores
// nothing. It returns nil, or a *FieldError whose Others are the other
// invalid fields.
func (s *Service) CheckAcknowledgement(req AcknowledgeRequest) error {
	if err := s.checkAcknowledgement(&req); err != nil {
		return s.withOtherProblems(req, err)
	}
	return nil
}

// withOtherProblems adds to a *FieldError the errors of the other fields
// that a form can correct, found by checking req again with each invalid
// field left empty. Other errors are returned unchanged.
func (s *Service) withOtherProblems(req AcknowledgeRequest, err error) error {
	var first *FieldError
	if !errors.As(err, &first) {
		return err
	}
	reported := map[string]bool{first.Field: true}
	current := first
	for clearField(&req, current.Field) {
		var next *FieldError
		if !errors.As(s.checkAcknowledgement(&req), &next) || reported[next.Field] {
			break
		}
		reported[next.Field] = true
		first.Others = append(first.Others, next)
		current = next
	}
	return first
}

// clearField empties the named field of req, so the next check goes on to
// the fields after it. It returns false for a field that cannot be skipped,
// such as a missing provider.
func clearField(req *AcknowledgeRequest, field string) bool {
	switch field {
	case "acknowledgement_state":
		req.State = ""
	case "external_ref":
		req.ExternalRef, req.ClearExternalRef = "", false
	case "notes":
		req.Notes = ""
	default:
		return false
	}
	return true
}

// rejectCredentials returns a *FieldError when external_ref or notes
// contain a secret of a configured destination or text that looks like a
// credential, because both fields are stored, shown and exported as sent.
func (s *Service) rejectCredentials(req AcknowledgeRequest) error {
	var redactor *connectors.Redactor
	if s.Destinations != nil {
		redactor = s.Destinations.Redactor()
	}
	for _, field := range []struct{ name, text string }{{"external_ref", req.ExternalRef}, {"notes", req.Notes}} {
		if found := redactor.FindCredential(field.text); found != "" {
			return fieldErrorf(field.name, "%s contains %s, which would be stored and shown; remove it and send the ticket "+
				"reference or a link without credentials", field.name, found)
		}
	}
	return nil
}

// AcknowledgementView is the JSON shape of one acknowledgement action.
type AcknowledgementView struct {
	AcknowledgementID    string    `json:"acknowledgement_id"`
	HealthID             string    `json:"health_id"`
	OccurrenceID         string    `json:"occurrence_id"`
	PlanID               string    `json:"plan_id"`
	Provider             string    `json:"provider"`
	Sequence             int       `json:"sequence"`
	AcknowledgementState string    `json:"acknowledgement_state"`
	Repeat               bool      `json:"repeat"`
	ExternalRef          string    `json:"external_ref"`
	Notes                string    `json:"notes"`
	Actor                string    `json:"actor"`
	CreatedAt            time.Time `json:"created_at"`
}

func acknowledgementView(a models.AlertAcknowledgement) AcknowledgementView {
	return AcknowledgementView{
		AcknowledgementID: a.ID, HealthID: a.HealthID, OccurrenceID: a.OccurrenceID, PlanID: a.PlanID,
		Provider: a.Provider, Sequence: a.Sequence, AcknowledgementState: a.AcknowledgementState, Repeat: a.Repeat,
		ExternalRef: a.ExternalRef, Notes: a.Notes, Actor: a.Actor, CreatedAt: a.CreatedAt,
	}
}

// CurrentState is the current acknowledgement state of one destination for
// one alert occurrence.
type CurrentState struct {
	OccurrenceID         string    `json:"occurrence_id"`
	Provider             string    `json:"provider"`
	AcknowledgementState string    `json:"acknowledgement_state"`
	Outstanding          bool      `json:"outstanding"`
	ActionCount          int       `json:"action_count"`
	ExternalRef          string    `json:"external_ref"`
	Actor                string    `json:"actor"`
	UpdatedAt            time.Time `json:"updated_at"`
}

func currentState(s models.AlertAcknowledgementState) CurrentState {
	return CurrentState{
		OccurrenceID: s.OccurrenceID, Provider: s.Provider, AcknowledgementState: s.AcknowledgementState,
		Outstanding: !ClosesOutstanding(s.AcknowledgementState), ActionCount: s.Sequence,
		ExternalRef: s.ExternalRef, Actor: s.Actor, UpdatedAt: s.UpdatedAt,
	}
}

// AcknowledgeResult is the recorded action and the state after it. Repeat
// is true when the action sent the state that was already current: it is
// kept in the history but changes nothing.
type AcknowledgeResult struct {
	Acknowledgement AcknowledgementView `json:"acknowledgement"`
	Current         CurrentState        `json:"current"`
	Repeat          bool                `json:"repeat"`
}

// Acknowledge records one action for a destination of an alert. It returns
// a *NotFoundError for an unknown health_id and an *UnprocessableError for a
// destination (or plan) the alert did not require acknowledgement from.
//
// Every action is appended to the history. The current state changes only
// when the action's state differs from it, so sending the same state again is
// idempotent. The current ticket reference is separate from the state: an
// action with an external_ref replaces it, one with ClearExternalRef removes
// it, and any other action keeps it, also when it changes the state.
// Concurrent actions on one destination are serialised by a row lock
// (PostgreSQL) or the single SQLite writer, and the unique (occurrence,
// destination, sequence) index rejects a lost race.
func (s *Service) Acknowledge(ctx context.Context, req AcknowledgeRequest) (AcknowledgeResult, error) {
	if err := s.checkAcknowledgement(&req); err != nil {
		return AcknowledgeResult{}, s.withOtherProblems(req, err)
	}
	target, err := s.acknowledgementTarget(ctx, req.HealthID, req.Provider, req.PlanID)
	if err != nil {
		return AcknowledgeResult{}, err
	}

	var result AcknowledgeResult
	err = s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		state, err := models.LockAcknowledgementState(tx, target.OccurrenceID, target.Provider)
		if err != nil {
			return err
		}
		now := models.UTC(s.Now())
		ack := models.AlertAcknowledgement{
			ID: models.NewID("ack", now), HealthID: req.HealthID, OccurrenceID: target.OccurrenceID,
			Provider: target.Provider, PlanID: target.PlanID, Sequence: state.Sequence + 1,
			AcknowledgementState: req.State, Repeat: state.AcknowledgementState == req.State,
			ExternalRef: req.ExternalRef, Notes: req.Notes, Actor: req.Actor, CreatedAt: now,
		}
		externalRef := state.ExternalRef
		if req.ExternalRef != "" || req.ClearExternalRef {
			externalRef = req.ExternalRef
		}
		if err := models.AppendAcknowledgement(tx, &ack, state.Sequence, externalRef); err != nil {
			return err
		}

		state.Sequence, state.ExternalRef = ack.Sequence, externalRef
		if !ack.Repeat {
			state.AcknowledgementState, state.AcknowledgementID, state.HealthID = ack.AcknowledgementState, ack.ID, ack.HealthID
			state.Actor, state.UpdatedAt = ack.Actor, ack.CreatedAt
		}
		result = AcknowledgeResult{Acknowledgement: acknowledgementView(ack), Current: currentState(*state), Repeat: ack.Repeat}
		return nil
	})
	if err != nil {
		return AcknowledgeResult{}, fmt.Errorf("alerting: unable to acknowledge %s for %s: %w", req.HealthID, req.Provider, err)
	}

	s.logger().Info("retry health alert acknowledged", "health_id", req.HealthID, "occurrence_id", target.OccurrenceID,
		"provider", target.Provider, "state", req.State, "repeat", result.Repeat, "actor", req.Actor)
	return result, nil
}

// acknowledgementTarget returns the plan destination an acknowledgement
// acts on: the named plan's, or the newest plan's of the health snapshot.
func (s *Service) acknowledgementTarget(ctx context.Context, healthID, provider, planID string) (models.AlertPlanDestination, error) {
	if _, err := models.HealthSnapshotByID(ctx, s.DB, healthID); err != nil {
		if errors.Is(err, models.ErrNotFound) {
			return models.AlertPlanDestination{}, &NotFoundError{Message: fmt.Sprintf(
				"health snapshot %q does not exist; acknowledge an alert by the health_id it was sent with", healthID)}
		}
		return models.AlertPlanDestination{}, err
	}

	required, err := models.AcknowledgementRequiredBy(ctx, s.DB, healthID, provider)
	if err != nil {
		return models.AlertPlanDestination{}, err
	}
	if len(required) == 0 {
		providers, err := models.AcknowledgementProvidersOf(ctx, s.DB, healthID)
		if err != nil {
			return models.AlertPlanDestination{}, err
		}
		list := "none (the alert was healthy or never sent)"
		if len(providers) > 0 {
			list = strings.Join(providers, ", ")
		}
		return models.AlertPlanDestination{}, &UnprocessableError{Field: "provider", Message: fmt.Sprintf(
			"alert %s did not require acknowledgement from %q; destinations that must acknowledge: %s", healthID, provider, list)}
	}
	if planID == "" {
		return required[0], nil
	}
	for _, d := range required {
		if d.PlanID == planID {
			return d, nil
		}
	}
	return models.AlertPlanDestination{}, &UnprocessableError{Field: "plan_id", Message: fmt.Sprintf(
		"plan %q is not a plan of alert %s that required acknowledgement from %s; omit plan_id or send %s",
		planID, healthID, provider, required[0].PlanID)}
}
