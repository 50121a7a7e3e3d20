package models_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
)

const (
	benchAlerts        = 4
	benchPlansPerAlert = 200
)

// BenchmarkTallyAlertGroups times the count of open health alert groups when
// each of 4 alerts has 200 plans whose send to one destination failed, as
// when an alert is sent again and again while its destination is down. The
// health alert rules suppress every group but the newest of each alert
// there, which takes a lookup among that alert's other open groups.
func BenchmarkTallyAlertGroups(b *testing.B) {
	db := dbtest.Open(b)
	start := time.Now().Add(-2 * time.Hour).UTC()
	deliveries := make([]models.Delivery, 0, benchAlerts*benchPlansPerAlert)
	for plan := range benchPlansPerAlert {
		for alert := range benchAlerts {
			at := start.Add(time.Duration(plan*benchAlerts+alert) * time.Second)
			planID := fmt.Sprintf("alp_bench_%d_%03d", alert, plan)
			deliveries = append(deliveries, models.Delivery{
				ID: models.NewID("dlv", at), SubjectKind: models.SubjectHealthAlert, SubjectID: planID,
				SubjectKey: fmt.Sprintf("fingerprint-%d", alert), Connector: "hook", ConnectorKind: "webhook",
				State: models.DeliveryCompleted, ErrorClass: "server_error", StatusCode: 503, AttemptCount: 1,
				Attempts: "[]", RequestSummary: "{}", IdempotencyKey: planID + ":hook", Origin: models.OriginSend,
				Actor: "bench", StartedAt: at, CompletedAt: &at, CreatedAt: at,
			})
		}
	}
	if err := db.CreateInBatches(deliveries, 200).Error; err != nil {
		b.Fatalf("seed deliveries: %v", err)
	}
	if models.DialectOf(db) == models.DialectPostgres {
		// A running database has statistics and a visibility map, as
		// autovacuum keeps them.
		for _, table := range []string{"deliveries", "audit_delivery_groups"} {
			if err := db.Exec("VACUUM ANALYZE " + table).Error; err != nil {
				b.Fatalf("vacuum %s: %v", table, err)
			}
		}
	}
	rules := models.GroupRules{Now: time.Now().UTC(), MaxAttempts: 3, PermanentClasses: []string{"gone", "auth_error", "client_error"},
		Delays: []time.Duration{30 * time.Minute, time.Hour}, SuppressDeliveredKey: true}

	b.ResetTimer()
	for range b.N {
		buckets, err := models.TallyOpenGroups(context.Background(), db, models.SubjectHealthAlert, rules)
		if err != nil {
			b.Fatalf("TallyOpenGroups: %v", err)
		}
		groups, suppressed := 0, 0
		for _, bucket := range buckets {
			groups += bucket.Groups
			suppressed += bucket.Suppressed
		}
		if groups != benchAlerts*benchPlansPerAlert || suppressed != groups-benchAlerts {
			b.Fatalf("tally: got %d groups with %d suppressed, want %d with %d", groups, suppressed,
				benchAlerts*benchPlansPerAlert, benchAlerts*benchPlansPerAlert-benchAlerts)
		}
	}
}
