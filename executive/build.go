package executive

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/releaseops/evidence-console/models"
)

// Inputs are the stored facts a report reads: aggregates over the period
// and over all recoveries, never whole tables.
type Inputs struct {
	Now time.Time
	// Executions counts retry executions in the period per provider and status.
	Executions []models.ExecutionTally
	// Recoveries counts recoveries per provider, whatever their age.
	Recoveries []models.RecoveryTally
	// OldestOpen lists the oldest open recoveries, oldest first.
	OldestOpen []models.OpenRecovery
	// Closures counts closures in the period per UTC day and state.
	Closures []models.ClosureDayTally
	Evidence models.RecoveryEvidenceCounts
}

// PeriodOf returns the period of days UTC calendar days that ends at now.
func PeriodOf(now time.Time, days int) Period {
	now = models.UTC(now)
	midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	return Period{PeriodDays: days, Start: midnight.AddDate(0, 0, -(days - 1)), End: now}
}

// Build applies the executive report rules to inputs. It is pure: the same
// params and inputs always give the same report.
func Build(params Params, in Inputs) Report {
	now := models.UTC(in.Now)
	report := Report{
		GeneratedAt:        now,
		RecoverySLOMinutes: params.RecoverySLOMinutes,
		Period:             PeriodOf(now, params.PeriodDays),
		KeyRisks:           []KeyRisk{},
		ProviderSummary:    []ProviderSummary{},
		RecommendedActions: []string{},
	}

	providers := map[string]*ProviderSummary{}
	provider := func(name string) *ProviderSummary {
		if p, ok := providers[name]; ok {
			return p
		}
		p := &ProviderSummary{Provider: name}
		providers[name] = p
		return p
	}

	summary := &report.ExecutiveSummary
	for _, tally := range in.Executions {
		p := provider(tally.Provider)
		p.ExecutionCount += tally.Count
		summary.ExecutionCount += tally.Count
		switch tally.ExecutionStatus {
		case ExecutionDelivered:
			p.DeliveredCount += tally.Count
		case ExecutionFailed:
			p.FailedExecutionCount += tally.Count
			summary.FailedExecutionCount += tally.Count
		case ExecutionSkipped:
			p.SkippedCount += tally.Count
			summary.FailedExecutionCount += tally.Count
		}
	}
	for _, tally := range in.Recoveries {
		p := provider(tally.Provider)
		p.RecoveryCount += tally.RecoveryCount
		p.ClosedRecoveryCount += tally.ClosedCount
		p.OpenRecoveryCount += tally.OpenCount
		p.SLOBreachCount += tally.BreachedCount
		p.OpenFailureCount += tally.OpenFailureCount
		summary.OpenRecoveryCount += tally.OpenCount
		summary.SLOBreachCount += tally.BreachedCount
		summary.ClosedRecoveryCount += tally.ClosedCount
		report.Evidence.RecoveryRows += tally.RecoveryCount
	}

	var failingProviders, breachedProviders, openProviders []string
	for _, name := range sortedKeys(providers) {
		p := providers[name]
		switch {
		case p.FailedExecutionCount+p.SkippedCount > 0 || p.SLOBreachCount > 0:
			p.Status = StatusCritical
		case p.OpenRecoveryCount > 0:
			p.Status = StatusWarning
		default:
			p.Status = StatusHealthy
		}
		if p.FailedExecutionCount+p.SkippedCount > 0 {
			failingProviders = append(failingProviders, name)
		}
		if p.SLOBreachCount > 0 {
			breachedProviders = append(breachedProviders, name)
		}
		if p.OpenRecoveryCount > p.SLOBreachCount {
			openProviders = append(openProviders, name)
		}
		report.ProviderSummary = append(report.ProviderSummary, *p)
	}
	escalation := append(slices.Clone(failingProviders), breachedProviders...)
	slices.Sort(escalation)
	escalation = slices.Compact(escalation)
	summary.EscalationCount = len(escalation)

	report.addRisks(in, failingProviders, breachedProviders, openProviders)
	summary.Status = StatusHealthy
	for _, risk := range report.KeyRisks {
		if risk.Severity == StatusCritical {
			summary.Status = StatusCritical
			break
		}
		summary.Status = StatusWarning
	}
	summary.BusinessImpact = report.businessImpact(escalation)
	report.ClosureTrends = closureTrends(report.Period, in.Closures)
	report.addEvidence(in, now)
	return report
}

// addRisks appends the key risks in their fixed order: failed or skipped
// executions, recoveries past the SLO, then recoveries still open within it.
func (r *Report) addRisks(in Inputs, failing, breached, open []string) {
	summary := r.ExecutiveSummary
	days := r.Period.PeriodDays
	if summary.FailedExecutionCount > 0 {
		r.KeyRisks = append(r.KeyRisks, KeyRisk{
			Category: RiskFailedExecutions, Severity: StatusCritical,
			Title: fmt.Sprintf("%s failed or skipped in the last %s",
				plural(summary.FailedExecutionCount, "retry execution", "retry executions"), plural(days, "day", "days")),
			Detail:    "By provider: " + executionDetail(r.ProviderSummary) + ". Notifications to these destinations may not have reached their owners.",
			Count:     summary.FailedExecutionCount,
			Providers: failing,
		})
		r.RecommendedActions = append(r.RecommendedActions, fmt.Sprintf(
			"Check the connector configuration and recent delivery errors of %s, then re-run the failed retry executions.", joinNames(failing)))
	}

	slo := time.Duration(r.RecoverySLOMinutes) * time.Minute
	if summary.SLOBreachCount > 0 {
		var listed []string
		for _, recovery := range in.OldestOpen {
			age := r.GeneratedAt.Sub(recovery.GeneratedAt)
			if age > slo {
				listed = append(listed, fmt.Sprintf("%s in %s (open %s)", recovery.Provider, recovery.PlaybookID, formatDuration(age)))
			}
		}
		detail := fmt.Sprintf("%s open longer than the %d-minute recovery SLO", plural(summary.SLOBreachCount, "recovery is", "recoveries are"), r.RecoverySLOMinutes)
		if len(listed) > 0 {
			detail += ", oldest first: " + strings.Join(listed, ", ")
			if summary.SLOBreachCount > len(listed) {
				detail += fmt.Sprintf(", and %d more", summary.SLOBreachCount-len(listed))
			}
		}
		r.KeyRisks = append(r.KeyRisks, KeyRisk{
			Category: RiskRecoverySLOBreach, Severity: StatusCritical,
			Title:     fmt.Sprintf("%s past the recovery SLO", plural(summary.SLOBreachCount, "recovery", "recoveries")),
			Detail:    detail + ".",
			Count:     summary.SLOBreachCount,
			Providers: breached,
		})
		r.RecommendedActions = append(r.RecommendedActions, fmt.Sprintf(
			"Escalate the recoveries of %s that are past the SLO to their owners and agree a closure date.", joinNames(breached)))
	}

	if withinSLO := summary.OpenRecoveryCount - summary.SLOBreachCount; withinSLO > 0 {
		r.KeyRisks = append(r.KeyRisks, KeyRisk{
			Category: RiskRecoveryStillOpen, Severity: StatusWarning,
			Title: fmt.Sprintf("%s still open", plural(withinSLO, "recovery", "recoveries")),
			Detail: fmt.Sprintf("%s not closed yet but within the %d-minute recovery SLO.",
				plural(withinSLO, "recovery is", "recoveries are"), r.RecoverySLOMinutes),
			Count:     withinSLO,
			Providers: open,
		})
		r.RecommendedActions = append(r.RecommendedActions, fmt.Sprintf(
			"Follow up the open recoveries of %s before they pass the %d-minute SLO.", joinNames(open), r.RecoverySLOMinutes))
	}

	if len(r.KeyRisks) == 0 {
		r.RecommendedActions = append(r.RecommendedActions, "No action needed: keep the report schedule running.")
	}
}

// businessImpact is the one sentence an executive reads first.
func (r *Report) businessImpact(escalation []string) string {
	s := r.ExecutiveSummary
	days := plural(r.Period.PeriodDays, "day", "days")
	if s.FailedExecutionCount == 0 && s.OpenRecoveryCount == 0 {
		if s.ExecutionCount == 0 {
			return fmt.Sprintf("Recovery is on track: no retry execution ran in the last %s and no recovery is open.", days)
		}
		return fmt.Sprintf("Recovery is on track: all %s in the last %s delivered and no recovery is open.",
			plural(s.ExecutionCount, "retry execution", "retry executions"), days)
	}

	var parts []string
	if s.FailedExecutionCount > 0 {
		parts = append(parts, fmt.Sprintf("%d of %s in the last %s failed or were skipped",
			s.FailedExecutionCount, plural(s.ExecutionCount, "retry execution", "retry executions"), days))
	}
	if s.SLOBreachCount > 0 {
		parts = append(parts, fmt.Sprintf("%s past the %d-minute recovery SLO",
			plural(s.SLOBreachCount, "recovery is", "recoveries are"), r.RecoverySLOMinutes))
	}
	if open := s.OpenRecoveryCount - s.SLOBreachCount; open > 0 {
		parts = append(parts, fmt.Sprintf("%s still open within the SLO", plural(open, "recovery is", "recoveries are")))
	}
	sentence := joinClauses(parts)
	if len(escalation) > 0 {
		return capitalize(sentence) + fmt.Sprintf(", so notifications to %s need escalation.", joinNames(escalation))
	}
	return capitalize(sentence) + "."
}

// closureTrends returns one entry per UTC day of the period, oldest first,
// with zero counts on days without closures.
func closureTrends(period Period, tallies []models.ClosureDayTally) []ClosureTrend {
	byDay := map[string]*ClosureTrend{}
	var trends []ClosureTrend
	for day := period.Start; !day.After(period.End); day = day.AddDate(0, 0, 1) {
		trends = append(trends, ClosureTrend{Date: day.Format(time.DateOnly), ByState: map[string]int{}})
	}
	for i := range trends {
		byDay[trends[i].Date] = &trends[i]
	}
	for _, tally := range tallies {
		trend, ok := byDay[tally.Day]
		if !ok {
			continue
		}
		trend.ClosureCount += tally.Count
		trend.ByState[tally.ClosureState] += tally.Count
		if slices.Contains(ClosingStates, tally.ClosureState) {
			trend.ClosedCount += tally.Count
		} else {
			trend.OtherCount += tally.Count
		}
	}
	return trends
}

func (r *Report) addEvidence(in Inputs, now time.Time) {
	r.Evidence.AuditRetryExecutionsInPeriod = r.ExecutiveSummary.ExecutionCount
	r.Evidence.RecoveryPlaybooks = in.Evidence.Playbooks
	r.Evidence.RecoveryPlaybookEntries = in.Evidence.PlaybookEntries
	r.Evidence.RecoveryClosures = in.Evidence.Closures
	r.Evidence.LatestIngestedAt = in.Evidence.LatestIngestAt
	for _, trend := range r.ClosureTrends {
		r.Evidence.RecoveryClosuresInPeriod += trend.ClosureCount
	}
	slo := time.Duration(r.RecoverySLOMinutes) * time.Minute
	r.Evidence.OpenRecoveries = []RecoveryRef{}
	for i, recovery := range in.OldestOpen {
		if i == maxRecoveriesInDetails {
			break
		}
		r.Evidence.OpenRecoveries = append(r.Evidence.OpenRecoveries, RecoveryRef{
			PlaybookID: recovery.PlaybookID, Provider: recovery.Provider, GeneratedAt: models.UTC(recovery.GeneratedAt),
			ClosureState: recovery.ClosureState, Breached: now.Sub(recovery.GeneratedAt) > slo,
		})
	}
}

// executionDetail lists failed and skipped executions per provider, for
// example "jira 1 failed of 2, servicenow 1 skipped of 1".
func executionDetail(providers []ProviderSummary) string {
	var parts []string
	for _, p := range providers {
		var counts []string
		if p.FailedExecutionCount > 0 {
			counts = append(counts, fmt.Sprintf("%d failed", p.FailedExecutionCount))
		}
		if p.SkippedCount > 0 {
			counts = append(counts, fmt.Sprintf("%d skipped", p.SkippedCount))
		}
		if len(counts) > 0 {
			parts = append(parts, fmt.Sprintf("%s %s of %d", p.Provider, strings.Join(counts, " and "), p.ExecutionCount))
		}
	}
	return strings.Join(parts, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// maxNamesInSentences is the number of destinations a sentence of the
// report names before it counts the rest, so a report with many failing
// destinations still prints on one or two pages. The provider table lists
// every destination.
const maxNamesInSentences = 10

// joinNames joins names for a sentence as "a", "a and b" or "a, b and c",
// naming at most maxNamesInSentences and counting the others, as in
// "a, b, …, j and 3 more".
func joinNames(names []string) string {
	if len(names) > maxNamesInSentences {
		return strings.Join(names[:maxNamesInSentences], ", ") + fmt.Sprintf(" and %d more", len(names)-maxNamesInSentences)
	}
	return joinClauses(names)
}

// joinClauses joins every part with commas and a final "and".
func joinClauses(parts []string) string {
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

func capitalize(text string) string {
	if text == "" {
		return text
	}
	return strings.ToUpper(text[:1]) + text[1:]
}

// formatDuration renders an age in minutes, hours or days.
func formatDuration(d time.Duration) string {
	minutes := int(d / time.Minute)
	switch {
	case minutes < 120:
		return plural(minutes, "minute", "minutes")
	case minutes < 48*60:
		return plural(minutes/60, "hour", "hours")
	}
	return plural(minutes/(24*60), "day", "days")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for key := range m {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	return keys
}
