// Package views holds the templ components and the plain view models they
// render. Views never query and hold no business rules.
package views

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/releaseops/evidence-console/auth"
	"github.com/releaseops/evidence-console/connectors"
)

// PageContext is the request data the layout shows: path, user and CSRF token.
type PageContext struct {
	Path      string
	UserName  string
	UserRole  string
	CSRFToken string
	// SignedIn is false on pages shown before sign-in.
	SignedIn bool
}

// NavItem is one entry of the top navigation.
type NavItem struct {
	Label string
	Href  string
	// Permission hides the item from users whose role lacks it; empty
	// shows it to everyone.
	Permission auth.Permission
}

// Navigation lists the top navigation entries in order.
var Navigation = []NavItem{
	{Label: "Console", Href: "/console"},
	{Label: "Connectors", Href: "/connectors"},
	{Label: "Executive report", Href: "/executive/report", Permission: auth.PermissionReadExecutive},
	{Label: "History", Href: "/history"},
	{Label: "Retry runs", Href: "/retries/runs"},
	{Label: "Users", Href: "/users", Permission: auth.PermissionManageUsers},
}

// ConsolePage is the console's view model.
type ConsolePage struct {
	Health    HealthPanelView
	Executive ExecutiveConsoleView
	// Alerts is nil when no alert service is configured.
	Alerts *AlertsSectionView
	// Retry, the executive report delivery retries, and AlertRetry, the
	// health alert delivery retries, are nil when no retry service is
	// configured.
	Retry      *RetryConsoleView
	AlertRetry *RetryConsoleView
	// Dashboard is nil when no audit service is configured.
	Dashboard *DashboardView
}

// HealthPanelView is a recovery retry health evaluation ready to show.
type HealthPanelView struct {
	// Persisted is false for a preview that has not been built yet.
	Persisted bool
	// OutOfBand is set when the panel rides along with the response of
	// another section, which htmx then swaps into the panel's place.
	OutOfBand               bool
	HealthID                string
	Fingerprint             string
	AlertLevel              string
	EvaluatedAt             string
	Actor                   string
	ExpectedIntervalMinutes int
	StaleMetadataMinutes    int
	Findings                []FindingView
	Counts                  []CountView
	LatestWorkerRun         *RecordAgeView
	LatestRetryPlan         *RecordAgeView
	OpenFailures            []OpenFailureView
	RecommendedActions      []string
	// BuildBlockedReason is the reason the user's role may not build a
	// snapshot, shown under the disabled form. It is empty when the role may.
	BuildBlockedReason string
}

// FindingView is one finding.
type FindingView struct {
	Category string
	Severity string
	Message  string
}

// CountView is one labelled count.
type CountView struct {
	Key   string
	Label string
	Value int64
}

// RecordAgeView is a record with its time and age.
type RecordAgeView struct {
	ID        string
	CreatedAt string
	Age       string
	Detail    string
}

// OpenFailureView is one open failed execution.
type OpenFailureView struct {
	PlanID      string
	Provider    string
	ExecutionID string
	Status      string
	At          string
}

// FormatTime renders t in zone with the zone's abbreviation shown.
func FormatTime(t time.Time, zone *time.Location) string {
	if t.IsZero() {
		return "—"
	}
	if zone == nil {
		zone = time.UTC
	}
	return t.In(zone).Format("2006-01-02 15:04 MST")
}

// FormatTimeSeconds is FormatTime with seconds, rounded up, for times a
// user waits for, such as the next retry time, where a minute's rounding
// would make "none is due before 05:07" read as wrong at 05:07:39.
func FormatTimeSeconds(t time.Time, zone *time.Location) string {
	// Rounded up, so 05:07:39.6 shows as 05:07:40, never as a time before it.
	if whole := t.Truncate(time.Second); !whole.Equal(t) {
		t = whole.Add(time.Second)
	}
	return formatSecond(t, zone)
}

// FormatRecordedTime formats a time at which something happened to the
// second, rounded down, so a page never shows it later than the JSON and
// the export record it. Times that something waits for use
// FormatTimeSeconds, which rounds up.
func FormatRecordedTime(t time.Time, zone *time.Location) string {
	return formatSecond(t.Truncate(time.Second), zone)
}

// formatSecond formats a whole-second time in zone, UTC when zone is nil,
// or a dash for the zero time.
func formatSecond(t time.Time, zone *time.Location) string {
	if t.IsZero() {
		return "—"
	}
	if zone == nil {
		zone = time.UTC
	}
	return t.In(zone).Format("2006-01-02 15:04:05 MST")
}

// FormatAge renders an age in whole minutes, or the clock-skew note.
func FormatAge(minutes *int, inFuture bool) string {
	if inFuture {
		return "in the future (clock skew): no age"
	}
	if minutes == nil {
		return "—"
	}
	m := *minutes
	switch {
	case m < 60:
		return fmt.Sprintf("%d min ago", m)
	case m < 48*60:
		return fmt.Sprintf("%d min ago (%dh %02dm)", m, m/60, m%60)
	}
	return fmt.Sprintf("%d min ago (%d days)", m, m/(24*60))
}

// StatusLabel names a connector's response code with its protocol, as
// connectors.ReplyCode does.
func StatusLabel(kind string, statusCode int) string {
	return connectors.ReplyCode(kind, statusCode)
}

// DeliveryDetail describes a delivery's outcome, for example
// "server_error, HTTP 503, 1 attempt". kind is the connector kind, which
// names the protocol of statusCode. A zero statusCode (no response) and an
// empty class (no outcome yet) are left out.
func DeliveryDetail(kind, class string, statusCode, attempts int) string {
	var parts []string
	if class != "" {
		parts = append(parts, class)
	}
	if statusCode != 0 {
		parts = append(parts, StatusLabel(kind, statusCode))
	}
	return strings.Join(append(parts, CountNoun(attempts, "attempt", "attempts")), ", ")
}

// ExistingRecordText explains a delivery that created nothing because an
// earlier attempt of the same message had created the issue or record.
func ExistingRecordText(name string) string {
	return "found " + name + ", created by an earlier attempt; no second one was created"
}

// PageLinks are the links from one page of a list to other pages, each
// empty when the page has no such link.
type PageLinks struct {
	// PreviousHref and NextHref link the neighbouring pages.
	PreviousHref string
	NextHref     string
	// PastEnd is set when the page starts at or past the last item although
	// some items match. Such a page links to the last page (LastHref) in
	// place of the previous one.
	PastEnd  bool
	LastHref string
	// FirstHref links the first page from a page past the end, when that is
	// not the last page or when nothing matches.
	FirstHref string
}

// PastEndText explains why a page past the end shows no items although
// total items match, for example "This page is past the end: there are 14
// matching records, and this page starts at record 15." The singular and
// plural nouns count the items, and item names the one at offset.
func PastEndText(total int64, offset int, singular, plural, item string) string {
	count := "is 1 " + singular
	if total != 1 {
		count = fmt.Sprintf("are %d %s", total, plural)
	}
	return fmt.Sprintf("This page is past the end: there %s, and this page starts at %s %d.", count, item, offset+1)
}

// RecordsShown describes one page of a list: the total and, when the page
// has rows, which of them it shows, for example "12 records, showing 1 to 10".
func RecordsShown(total int64, offset, rows int) string {
	text := strconv.FormatInt(total, 10) + " records"
	if total == 1 {
		text = "1 record"
	}
	if rows > 0 {
		text += fmt.Sprintf(", showing %d to %d", offset+1, offset+rows)
	}
	return text
}

// LevelClass returns the badge colours of an alert level or severity.
func LevelClass(level string) string {
	switch level {
	case "critical", "failed", "breached", "not_ready":
		return "bg-red-100 text-red-800 ring-red-600/20"
	case "warning", "wait", "suppressed", "at_risk":
		return "bg-amber-100 text-amber-800 ring-amber-600/20"
	case "healthy", "ok", "ready", "sent", "delivered", "resolved", "acknowledged":
		return "bg-emerald-100 text-emerald-800 ring-emerald-600/20"
	case "live":
		// A live worker run sent to destinations, unlike a dry run.
		return "bg-indigo-100 text-indigo-800 ring-indigo-600/20"
	}
	return "bg-slate-100 text-slate-700 ring-slate-500/20"
}

type contextKey string

const csrfTokenKey contextKey = "csrf_token"

// WithCSRFToken returns a context carrying the request's CSRF token, which
// CSRFField renders into forms.
func WithCSRFToken(ctx context.Context, token string) context.Context {
	return context.WithValue(ctx, csrfTokenKey, token)
}

// CSRFToken returns the token stored by WithCSRFToken, or "".
func CSRFToken(ctx context.Context) string {
	token, _ := ctx.Value(csrfTokenKey).(string)
	return token
}

// SendPauseSeconds is connectors.MaxPause in seconds, the longest wait
// before a quick retry, which the send spinners' estimate adds per retry.
// Views do not import connectors, so a handlers test keeps the two equal.
const SendPauseSeconds = "2"
