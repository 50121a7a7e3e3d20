package views

import "strings"

// RetryKind names the routes, element ids, data-testids and labels of the
// console section that plans and runs the delivery retries of one subject
// kind. The console shows a section for each kind, so the ids and
// data-testids of the two sections must differ.
type RetryKind struct {
	// Section is the id and data-testid of the console section, and the
	// path segment of its form routes under /console/.
	Section string
	// Prefix starts the ids and data-testids of the elements inside the
	// section, except those that Part and ButtonID name. It is empty for
	// executive reports, whose section came first and whose names tests
	// and scripts already use.
	Prefix string
	// Word names the kind in button labels, such as "Plan Executive Retry".
	Word string
	// Noun names the kind in lower case inside sentences and headings, such
	// as "the live executive retry".
	Noun string
	// Heading and Intro open the section.
	Heading string
	Intro   string
	// SubjectHeading heads the decision column that names what is retried,
	// and ExecutionSubjectHeading the execution column that names it with
	// its key.
	SubjectHeading          string
	ExecutionSubjectHeading string
	// HealthButtonID is the data-testid of the button that evaluates the
	// section's retry health.
	HealthButtonID string
	// ChangedEvent is the htmx event that a plan or a run of this kind
	// sends, so the section's health panel reloads itself.
	ChangedEvent string
}

// ExecutiveRetry is the console section of executive report delivery
// retries.
var ExecutiveRetry = RetryKind{
	Section: "executive-retry", Word: "Executive", Noun: "executive",
	Heading:                 "Executive delivery retries",
	Intro:                   "Re-deliver executive reports whose delivery failed.",
	SubjectHeading:          "Schedule run / plan",
	ExecutionSubjectHeading: "Schedule run / plan and report / fingerprint",
	HealthButtonID:          "executive-retry-health",
	ChangedEvent:            "retry-changed",
}

// AlertRetry is the console section of retry health alert delivery
// retries.
var AlertRetry = RetryKind{
	Section: "alert-retry", Prefix: "alert-", Word: "Alert", Noun: "health alert",
	Heading:                 "Health alert delivery retries",
	Intro:                   "Re-send retry health alerts whose delivery to a destination failed, with each alert's own message and idempotency key.",
	SubjectHeading:          "Alert plan",
	ExecutionSubjectHeading: "Alert plan and fingerprint",
	HealthButtonID:          "alert-retry-health-button",
	ChangedEvent:            "alert-retry-changed",
}

// Path returns the console route of the section's form action, such as
// /console/executive-retry/plan.
func (k RetryKind) Path(action string) string {
	return "/console/" + k.Section + "/" + action
}

// ID returns the id or data-testid of an element inside the section.
func (k RetryKind) ID(name string) string {
	return k.Prefix + name
}

// Part returns the id of one of the section's panels that responses
// replace, such as executive-retry-run.
func (k RetryKind) Part(name string) string {
	return k.Section + "-" + name
}

// ButtonID returns the data-testid of a button that names its kind, such
// as plan-executive-retry.
func (k RetryKind) ButtonID(verb string) string {
	return verb + "-" + strings.TrimSuffix(k.Section, "-retry") + "-retry"
}

// HealthHeading returns the heading of the section's retry health page,
// such as "Executive delivery retry health".
func (k RetryKind) HealthHeading() string {
	return strings.TrimSuffix(k.Heading, "retries") + "retry health"
}

// detailPageKind returns the names that the run and plan detail pages use
// for runs of subjectKind. The pages keep the executive section's ids and
// data-testids for every kind, and take the column headings and noun of
// the health alert section for its runs.
func detailPageKind(subjectKind string) RetryKind {
	kind := ExecutiveRetry
	if subjectKind == healthAlertSubject {
		kind.Noun = AlertRetry.Noun
		kind.SubjectHeading = AlertRetry.SubjectHeading
		kind.ExecutionSubjectHeading = AlertRetry.ExecutionSubjectHeading
	}
	return kind
}

// healthAlertSubject is the subject kind of health alert deliveries, as
// the models package stores it.
const healthAlertSubject = "health_alert"
