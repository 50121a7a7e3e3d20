// Package executive builds executive recovery reports from ingested
// acknowledgement-audit retry executions, recovery playbooks and recovery
// closures, persists them with the schedule run that produced them, and
// delivers them to the configured connectors.
package executive

import (
	"fmt"
	"time"
)

// Report parameters: defaults and bounds.
const (
	DefaultRecoverySLOMinutes = 240
	MaxRecoverySLOMinutes     = 525600 // one year
	DefaultPeriodDays         = 7
	MaxPeriodDays             = 366
)

// Params are the inputs of one report.
type Params struct {
	// RecoverySLOMinutes is how long a recovery may stay open before it
	// breaches the recovery SLO.
	RecoverySLOMinutes int `json:"recovery_slo_minutes"`
	// PeriodDays is the number of UTC calendar days, ending with today, that
	// execution counts and closure trends cover.
	PeriodDays int `json:"period_days"`
}

// DefaultParams returns the default report parameters.
func DefaultParams() Params {
	return Params{RecoverySLOMinutes: DefaultRecoverySLOMinutes, PeriodDays: DefaultPeriodDays}
}

// ConflictError is a request that would repeat work still under way, such
// as a delivery to a destination that another delivery of the same run has
// not finished. Handlers return it as a 409.
type ConflictError struct {
	Field   string
	Message string
}

func (e *ConflictError) Error() string { return e.Message }

// ParamError names the invalid parameter. Status is 400 for a value out of
// range and 422 for a well-formed request that cannot be acted on.
type ParamError struct {
	Field   string
	Message string
	// Unprocessable is true for a 422 rather than a 400.
	Unprocessable bool
	// Configured lists the configured destinations when a destination is unknown.
	Configured []string
}

func (e *ParamError) Error() string { return e.Message }

// Validate checks both parameters are in range.
func (p Params) Validate() error {
	if p.RecoverySLOMinutes < 1 || p.RecoverySLOMinutes > MaxRecoverySLOMinutes {
		return &ParamError{Field: "recovery_slo_minutes", Message: fmt.Sprintf(
			"recovery_slo_minutes must be a whole number of minutes from 1 to %d; got %d", MaxRecoverySLOMinutes, p.RecoverySLOMinutes)}
	}
	if p.PeriodDays < 1 || p.PeriodDays > MaxPeriodDays {
		return &ParamError{Field: "period_days", Message: fmt.Sprintf(
			"period_days must be a whole number of days from 1 to %d; got %d", MaxPeriodDays, p.PeriodDays)}
	}
	return nil
}

// Statuses of a report and severities of its key risks.
const (
	StatusCritical = "critical"
	StatusWarning  = "warning"
	StatusHealthy  = "healthy"
)

// Key risk categories, in the order a report lists them.
const (
	RiskFailedExecutions   = "failed_retry_executions"
	RiskRecoverySLOBreach  = "recovery_slo_breached"
	RiskRecoveryStillOpen  = "recovery_still_open"
	ExecutionDelivered     = "delivered"
	ExecutionFailed        = "failed"
	ExecutionSkipped       = "skipped"
	ClosureStateResolved   = "resolved"
	ClosureStateMitigated  = "mitigated"
	maxRecoveriesInDetails = 10
)

// ClosingStates are the closure states that close a recovery. Any other
// state, such as "deferred", leaves it open.
var ClosingStates = []string{ClosureStateMitigated, ClosureStateResolved}

// Report is one executive recovery report, as returned in JSON and stored.
type Report struct {
	ReportID           string            `json:"report_id,omitempty"`
	GeneratedAt        time.Time         `json:"generated_at"`
	Actor              string            `json:"actor,omitempty"`
	RecoverySLOMinutes int               `json:"recovery_slo_minutes"`
	Period             Period            `json:"period"`
	ExecutiveSummary   Summary           `json:"executive_summary"`
	KeyRisks           []KeyRisk         `json:"key_risks"`
	ProviderSummary    []ProviderSummary `json:"provider_summary"`
	ClosureTrends      []ClosureTrend    `json:"closure_trends"`
	RecommendedActions []string          `json:"recommended_actions"`
	Evidence           Evidence          `json:"evidence"`
}

// Period is the span that execution counts and closure trends cover: the
// PeriodDays UTC calendar days ending with the day of generation, from
// midnight UTC of the first day to the generation time.
type Period struct {
	PeriodDays int       `json:"period_days"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
}

// Summary is the executive summary, shown first.
type Summary struct {
	Status         string `json:"status"`
	BusinessImpact string `json:"business_impact"`
	// ExecutionCount counts retry executions in the period.
	ExecutionCount int `json:"execution_count"`
	// FailedExecutionCount counts failed or skipped retry executions in the period.
	FailedExecutionCount int `json:"failed_execution_count"`
	// OpenRecoveryCount counts open recoveries whatever their age, breached ones included.
	OpenRecoveryCount int `json:"open_recovery_count"`
	// SLOBreachCount counts open recoveries older than the recovery SLO.
	SLOBreachCount int `json:"slo_breach_count"`
	// EscalationCount counts the providers that need escalation to their
	// owner: those with a failed or skipped execution in the period or a
	// recovery past the SLO.
	EscalationCount int `json:"escalation_count"`
	// ClosedRecoveryCount counts recoveries whose latest closure is resolved or mitigated.
	ClosedRecoveryCount int `json:"closed_recovery_count"`
}

// KeyRisk is one risk, at most one per category.
type KeyRisk struct {
	Category  string   `json:"category"`
	Severity  string   `json:"severity"`
	Title     string   `json:"title"`
	Detail    string   `json:"detail"`
	Count     int      `json:"count"`
	Providers []string `json:"providers"`
}

// ProviderSummary is the state of one provider.
type ProviderSummary struct {
	Provider             string `json:"provider"`
	Status               string `json:"status"`
	ExecutionCount       int    `json:"execution_count"`
	DeliveredCount       int    `json:"delivered_count"`
	FailedExecutionCount int    `json:"failed_execution_count"`
	SkippedCount         int    `json:"skipped_count"`
	RecoveryCount        int    `json:"recovery_count"`
	ClosedRecoveryCount  int    `json:"closed_recovery_count"`
	OpenRecoveryCount    int    `json:"open_recovery_count"`
	SLOBreachCount       int    `json:"slo_breach_count"`
	OpenFailureCount     int    `json:"open_failure_count"`
}

// ClosureTrend counts the closures of one UTC day of the period.
type ClosureTrend struct {
	Date string `json:"date"` // YYYY-MM-DD, UTC
	// ClosureCount counts every closure of the day.
	ClosureCount int `json:"closure_count"`
	// ClosedCount counts closures that close a recovery (resolved or mitigated).
	ClosedCount int `json:"closed_count"`
	// OtherCount counts closures in any other state, such as deferred.
	OtherCount int            `json:"other_count"`
	ByState    map[string]int `json:"by_state"`
}

// Evidence records what a report was built from, so it can be reproduced
// from the same stored evidence.
type Evidence struct {
	AuditRetryExecutionsInPeriod int        `json:"audit_retry_executions_in_period"`
	RecoveryPlaybooks            int64      `json:"recovery_playbooks"`
	RecoveryPlaybookEntries      int64      `json:"recovery_playbook_entries"`
	RecoveryRows                 int        `json:"recovery_rows"`
	RecoveryClosures             int64      `json:"recovery_closures"`
	RecoveryClosuresInPeriod     int        `json:"recovery_closures_in_period"`
	LatestIngestedAt             *time.Time `json:"latest_ingested_at"`
	// OpenRecoveries lists the oldest open recoveries by id, at most ten.
	OpenRecoveries []RecoveryRef `json:"open_recoveries"`
}

// RecoveryRef identifies one recovery row.
type RecoveryRef struct {
	PlaybookID   string    `json:"playbook_id"`
	Provider     string    `json:"provider"`
	GeneratedAt  time.Time `json:"generated_at"`
	ClosureState string    `json:"closure_state"`
	Breached     bool      `json:"breached"`
}
