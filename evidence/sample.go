package evidence

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// SampleItems returns a realistic sample in the export format, with times
// relative to now: three days of escalation worker runs and retry plans,
// executions with an open and a recovered failure, escalation deliveries,
// acknowledgement-audit retry executions, recovery playbooks and closures.
// The newest worker run is late and reports pending acknowledgements, so a
// first evaluation has findings to show.
func SampleItems(now time.Time) []map[string]any {
	now = now.UTC().Truncate(time.Second)
	at := func(d time.Duration) string { return now.Add(-d).Format(time.RFC3339) }
	var items []map[string]any
	add := func(kind string, fields map[string]any) {
		fields["metadata_kind"] = kind
		if _, ok := fields["session_id"]; !ok {
			fields["session_id"] = "sample-session"
		}
		items = append(items, fields)
	}

	// Worker runs every 30 minutes for three days, the newest 75 minutes ago.
	for i := 0; i < 3*48; i++ {
		age := 75*time.Minute + time.Duration(i)*30*time.Minute
		pending := 0
		if i == 0 {
			pending = 2
		}
		add(KindEscalationWorkerRun, map[string]any{
			"run_id":     fmt.Sprintf("sample-worker-run-%03d", i),
			"dry_run":    i%12 == 0,
			"created_at": at(age),
			workerRunKey: map[string]any{
				"summary":  map[string]any{"selected_retry_count": i % 4, "acknowledgement_pending_count": pending},
				"schedule": map[string]any{"enabled": true, "interval_minutes": 30},
			},
		})
	}

	// Retry plans every hour, the newest 50 minutes ago.
	for i := 0; i < 72; i++ {
		add(KindEscalationRetryPlan, map[string]any{
			"retry_plan_id":   fmt.Sprintf("sample-retry-plan-%03d", i),
			"retryable_count": (i * 7) % 5,
			"created_at":      at(50*time.Minute + time.Duration(i)*time.Hour),
		})
	}

	// Executions: slack recovered after a failure, pagerduty is still failing,
	// teams was skipped and then delivered.
	executions := []struct {
		plan, provider, status string
		age                    time.Duration
	}{
		{"sample-retry-plan-003", "slack", StatusFailed, 3 * time.Hour},
		{"sample-retry-plan-003", "slack", StatusDelivered, 2 * time.Hour},
		{"sample-retry-plan-002", "pagerduty", StatusFailed, 100 * time.Minute},
		{"sample-retry-plan-002", "teams", StatusSkipped, 6 * time.Hour},
		{"sample-retry-plan-002", "teams", StatusDelivered, 5 * time.Hour},
		{"sample-retry-plan-010", "webhook", StatusDelivered, 26 * time.Hour},
	}
	for i, e := range executions {
		add(KindEscalationRetryExecution, map[string]any{
			"execution_id": fmt.Sprintf("sample-escalation-execution-%02d", i), "plan_id": e.plan,
			"provider": e.provider, "execution_status": e.status, "created_at": at(e.age),
		})
	}

	for i := 0; i < 12; i++ {
		failed := []string{}
		success := true
		if i%5 == 1 {
			failed, success = []string{"pagerduty"}, false
		}
		add(KindConnectorDelivery, map[string]any{
			"delivery_id": fmt.Sprintf("sample-escalation-delivery-%02d", i), "connector_delivery_source": EscalationDeliverySource,
			"delivery_success": success, "providers": []string{"slack", "pagerduty"}, "failed_providers": failed,
			"status_codes": map[string]any{"slack": 200, "pagerduty": map[bool]int{true: 202, false: 503}[success]},
			"created_at":   at(time.Duration(i)*6*time.Hour + 20*time.Minute),
		})
	}

	// Acknowledgement-audit retry executions over the last week.
	audit := []struct {
		provider, status string
		age              time.Duration
	}{
		{"slack", StatusDelivered, 5 * time.Hour}, {"slack", StatusDelivered, 29 * time.Hour},
		{"teams", StatusDelivered, 3 * time.Hour}, {"jira", StatusFailed, 7 * time.Hour},
		{"jira", StatusDelivered, 50 * time.Hour}, {"servicenow", StatusSkipped, 30 * time.Hour},
		{"pagerduty", StatusDelivered, 75 * time.Hour}, {"webhook", StatusDelivered, 120 * time.Hour},
	}
	for i, a := range audit {
		add(KindAuditRetryExecution, map[string]any{
			"execution_id": fmt.Sprintf("sample-audit-execution-%02d", i), "provider": a.provider,
			"execution_status": a.status, "executed_at": at(a.age),
		})
	}

	// Playbooks with closures: slack resolved, teams mitigated, jira deferred
	// (still open), servicenow open for days (past a four-hour SLO).
	add(KindRecoveryPlaybook, map[string]any{
		"playbook_id": "sample-playbook-1", "generated_at": at(72 * time.Hour),
		"connector_recovery_playbook": map[string]any{"provider_playbooks": []map[string]any{
			{"provider": "slack", "category": "rate_limited", "failure_count": 4},
			{"provider": "servicenow", "category": "auth_error", "failure_count": 2},
		}},
	})
	add(KindRecoveryPlaybook, map[string]any{
		"playbook_id": "sample-playbook-2", "generated_at": at(30 * time.Hour),
		"connector_recovery_playbook": map[string]any{"provider_playbooks": []map[string]any{
			{"provider": "teams", "category": "server_error", "failure_count": 3},
			{"provider": "jira", "category": "client_error", "failure_count": 1},
		}},
	})
	add(KindRecoveryPlaybook, map[string]any{
		"playbook_id": "sample-playbook-3", "generated_at": at(2 * time.Hour),
		"connector_recovery_playbook": map[string]any{"provider_playbooks": []map[string]any{
			{"provider": "pagerduty", "category": "timeout", "failure_count": 1},
		}},
	})
	closures := []struct {
		playbook, provider, state string
		age                       time.Duration
	}{
		{"sample-playbook-1", "slack", "resolved", 60 * time.Hour},
		{"sample-playbook-2", "teams", "mitigated", 20 * time.Hour},
		{"sample-playbook-2", "jira", "deferred", 10 * time.Hour},
	}
	for i, c := range closures {
		add(KindRecoveryClosure, map[string]any{
			"closure_id": fmt.Sprintf("sample-closure-%02d", i), "playbook_id": c.playbook,
			"provider": c.provider, "closure_state": c.state, "closed_at": at(c.age),
		})
	}
	return items
}

// LoadSampleIfEmpty ingests SampleItems when no evidence is stored yet and
// reports whether it stored any. A server that started at the same moment
// may have stored them first, and then every record is a duplicate.
func (s *Service) LoadSampleIfEmpty(ctx context.Context) (bool, error) {
	var stored int64
	if err := s.DB.WithContext(ctx).Table("evidence_counts").Count(&stored).Error; err != nil {
		return false, fmt.Errorf("evidence: unable to check for stored evidence: %w", err)
	}
	if stored > 0 {
		return false, nil
	}
	// The sample goes through the same export reader as `import FILE`.
	export, err := json.Marshal(map[string]any{"items": SampleItems(s.Now())})
	if err != nil {
		return false, fmt.Errorf("evidence: unable to build the sample: %w", err)
	}
	records, err := ReadExport(bytes.NewReader(export))
	if err != nil {
		return false, err
	}
	result, err := s.Ingest(ctx, records)
	if err != nil {
		return false, err
	}
	if len(result.Rejected) > 0 {
		return false, fmt.Errorf("evidence: sample record %d rejected: %s", result.Rejected[0].Index, result.Rejected[0].Error)
	}
	return result.Inserted > 0, nil
}
