package health

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/evidence"
	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
)

func newServices(t *testing.T) (*Service, *evidence.Service) {
	t.Helper()
	db := dbtest.Open(t)
	clock := func() time.Time { return now }
	return &Service{DB: db, Now: clock}, &evidence.Service{DB: db, Now: clock}
}

func TestEvaluateWritesNothing(t *testing.T) {
	service, ingest := newServices(t)
	if _, err := ingest.LoadSampleIfEmpty(context.Background()); err != nil {
		t.Fatalf("load sample: %v", err)
	}
	before := dbtest.CountRows(t, service.DB)

	if _, err := service.Evaluate(context.Background(), DefaultParams()); err != nil {
		t.Fatalf("evaluate: %v", err)
	}
	after := dbtest.CountRows(t, service.DB)
	for table, n := range before {
		if after[table] != n {
			t.Errorf("rows in %s = %d after Evaluate, want %d", table, after[table], n)
		}
	}
}

func TestBuildPersistsSnapshotWithStableFingerprint(t *testing.T) {
	service, ingest := newServices(t)
	if _, err := ingest.LoadSampleIfEmpty(context.Background()); err != nil {
		t.Fatalf("load sample: %v", err)
	}

	first, err := service.Build(context.Background(), DefaultParams(), "alice")
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	second, err := service.Build(context.Background(), DefaultParams(), "bob")
	if err != nil {
		t.Fatalf("second build: %v", err)
	}
	if first.HealthID == "" || first.HealthID == second.HealthID {
		t.Errorf("health ids = %q and %q, want two distinct ids", first.HealthID, second.HealthID)
	}
	if first.Fingerprint != second.Fingerprint {
		t.Errorf("fingerprints = %s and %s, want equal while the same findings persist", first.Fingerprint, second.Fingerprint)
	}
	if second.OccurrenceID != first.OccurrenceID {
		t.Errorf("occurrence of the second build = %s, want the first's %s", second.OccurrenceID, first.OccurrenceID)
	}

	stored, err := service.Snapshot(context.Background(), first.HealthID)
	if err != nil {
		t.Fatalf("read snapshot: %v", err)
	}
	if stored.Fingerprint != first.Fingerprint || stored.Actor != "alice" || stored.AlertLevel != first.AlertLevel {
		t.Errorf("stored snapshot = %s/%s/%s, want %s/alice/%s", stored.Fingerprint, stored.Actor, stored.AlertLevel, first.Fingerprint, first.AlertLevel)
	}

	if _, err := service.Snapshot(context.Background(), "hlth_missing"); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("unknown snapshot error = %v, want models.ErrNotFound", err)
	}
}

func TestBuildStartsNewOccurrenceWhenFindingsChange(t *testing.T) {
	service, _ := newServices(t)
	empty, err := service.Build(context.Background(), DefaultParams(), "alice")
	if err != nil {
		t.Fatalf("build: %v", err)
	}

	// A fresh worker run and plan change the findings.
	ingest := &evidence.Service{DB: service.DB, Now: service.Now}
	if _, err := ingest.LoadSampleIfEmpty(context.Background()); err != nil {
		t.Fatalf("load sample: %v", err)
	}
	changed, err := service.Build(context.Background(), DefaultParams(), "alice")
	if err != nil {
		t.Fatalf("second build: %v", err)
	}
	if changed.Fingerprint == empty.Fingerprint {
		t.Fatalf("fingerprint did not change after evidence arrived")
	}
	if changed.OccurrenceID == empty.OccurrenceID {
		t.Errorf("occurrence = %s for a new set of findings, want a new occurrence", changed.OccurrenceID)
	}
	if changed.OccurrenceID != changed.HealthID {
		t.Errorf("new occurrence id = %s, want the snapshot's own id %s", changed.OccurrenceID, changed.HealthID)
	}
}

// An evaluation with other thresholds can find other problems without the
// problems seen at the usual thresholds having gone away, so it must not
// end their occurrence and reopen its acknowledgements.
func TestBuildKeepsOccurrenceAcrossOtherThresholds(t *testing.T) {
	service, ingest := newServices(t)
	if _, err := ingest.LoadSampleIfEmpty(context.Background()); err != nil {
		t.Fatalf("load sample: %v", err)
	}

	first, err := service.Build(context.Background(), DefaultParams(), "alice")
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	// The sample's newest retry plan is older than 10 minutes, so this
	// threshold adds a stale plan finding.
	strict := Params{ExpectedIntervalMinutes: DefaultExpectedIntervalMinutes, StaleMetadataMinutes: 10}
	other, err := service.Build(context.Background(), strict, "bob")
	if err != nil {
		t.Fatalf("build with a 10-minute stale threshold: %v", err)
	}
	if other.Fingerprint == first.Fingerprint {
		t.Fatalf("fingerprint %s did not change with a 10-minute stale threshold", other.Fingerprint)
	}
	if other.OccurrenceID == first.OccurrenceID {
		t.Errorf("occurrence = %s for other findings, want a new occurrence", other.OccurrenceID)
	}

	again, err := service.Build(context.Background(), DefaultParams(), "alice")
	if err != nil {
		t.Fatalf("third build: %v", err)
	}
	if again.Fingerprint != first.Fingerprint {
		t.Fatalf("fingerprint = %s at the default thresholds, want %s", again.Fingerprint, first.Fingerprint)
	}
	if again.OccurrenceID != first.OccurrenceID {
		t.Errorf("occurrence = %s at the default thresholds, want the first build's %s", again.OccurrenceID, first.OccurrenceID)
	}
}

// A record imported without the connector configuration can hold a
// configured secret, here in other letters. Neither the report nor the
// stored snapshot may carry it.
func TestBuildRemovesConfiguredSecrets(t *testing.T) {
	const secret = "legacySEKRITtoken42"
	service, ingest := newServices(t)
	record := `{"metadata_kind": "go-backend-rollback-drill-acknowledgement-audit-delivery-recovery-escalation-retry-execution-record",
		"execution_id": "exec-legacy", "plan_id": "plan-` + strings.ToUpper(secret) + `", "provider": "slack",
		"execution_status": "failed", "created_at": "` + now.Add(-time.Hour).Format(time.RFC3339) + `"}`
	if result, err := ingest.Ingest(context.Background(), []json.RawMessage{json.RawMessage(record)}); err != nil || result.Inserted != 1 {
		t.Fatalf("ingest the record: got %+v, %v; want it stored", result, err)
	}
	service.Secrets = connectors.NewRedactor(secret)

	report, err := service.Build(context.Background(), DefaultParams(), "alice")
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	if len(report.OpenFailedExecutions) != 1 {
		t.Fatalf("open failures: got %d, want the imported one", len(report.OpenFailedExecutions))
	}
	if got := report.OpenFailedExecutions[0].PlanID; got != "plan-"+connectors.Redacted {
		t.Errorf("open failure plan id: got %q, want plan-%s", got, connectors.Redacted)
	}

	var stored models.HealthSnapshot
	if err := service.DB.Where("id = ?", report.HealthID).Take(&stored).Error; err != nil {
		t.Fatalf("read the stored snapshot: %v", err)
	}
	if strings.Contains(strings.ToLower(stored.Report), strings.ToLower(secret)) {
		t.Errorf("stored snapshot: got %s, want no configured secret in any letter case", stored.Report)
	}
}
