// Package evidence ingests upstream release-governance records: escalation
// retry plans, worker runs, executions and deliveries, acknowledgement-audit
// retry executions, and connector recovery playbooks and closures.
package evidence

// KindPrefix starts every metadata_kind this application ingests, except
// connector deliveries.
const KindPrefix = "go-backend-rollback-drill-acknowledgement-audit-delivery-"

// Metadata kinds accepted by ingestion.
const (
	KindEscalationRetryPlan      = KindPrefix + "recovery-escalation-delivery-retry-plan"
	KindEscalationWorkerRun      = KindPrefix + "recovery-escalation-retry-worker-run"
	KindEscalationRetryExecution = KindPrefix + "recovery-escalation-retry-execution-record"
	KindAuditRetryExecution      = KindPrefix + "retry-execution-record"
	KindRecoveryPlaybook         = KindPrefix + "connector-recovery-playbook"
	KindRecoveryClosure          = KindPrefix + "connector-recovery-closure"
	KindConnectorDelivery        = "release-connector-delivery"
)

// EscalationDeliverySource marks the connector deliveries that are escalation
// deliveries; connector deliveries from other sources are skipped.
const EscalationDeliverySource = "go_backend_rollback_drill_acknowledgement_audit_recovery_escalation"

// Execution statuses of retry execution records.
const (
	StatusDelivered = "delivered"
	StatusFailed    = "failed"
	StatusSkipped   = "skipped"
)
