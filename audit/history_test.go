package audit

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/releaseops/evidence-console/audit/audittest"
	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
)

func boolPtr(b bool) *bool { return &b }

const fixtureTotal = audittest.Total

func TestHistoryFilters(t *testing.T) {
	_, service := openFixture(t)
	tests := []struct {
		name  string
		query HistoryQuery
		want  int64
	}{
		{"no filter", HistoryQuery{}, fixtureTotal},
		{"health snapshots", HistoryQuery{MetadataKind: "health_snapshot"}, 3},
		{"alert plans", HistoryQuery{MetadataKind: "alert_plan"}, 2},
		{"deliveries", HistoryQuery{MetadataKind: "delivery"}, 11},
		{"acknowledgements", HistoryQuery{MetadataKind: "acknowledgement"}, 3},
		{"executive reports", HistoryQuery{MetadataKind: "executive_report"}, 2},
		{"schedule runs", HistoryQuery{MetadataKind: "schedule_run"}, 3},
		{"retry plans", HistoryQuery{MetadataKind: "retry_plan"}, 3},
		{"worker runs", HistoryQuery{MetadataKind: "retry_worker_run"}, 4},
		{"executions", HistoryQuery{MetadataKind: "retry_execution"}, 4},
		// pA, pB; d1 d2 d3 e2 e3 e5 e6; a1; rp1, rp2; x2, x3.
		{"provider slack", HistoryQuery{Provider: "slack"}, 14},
		{"provider upper case", HistoryQuery{Provider: " SLACK "}, 14},
		{"provider teams", HistoryQuery{Provider: "teams"}, 1},
		{"provider unknown", HistoryQuery{Provider: "nowhere"}, 0},
		{"acknowledgement state", HistoryQuery{AcknowledgementState: "dismissed"}, 1},
		{"source executive", HistoryQuery{ConnectorDeliverySource: "executive_report"}, 19},
		{"source health alert", HistoryQuery{ConnectorDeliverySource: "health_alert"}, 13},
		// d1 d3 e4 e6 and x1.
		{"delivery success true", HistoryQuery{DeliverySuccess: boolPtr(true)}, 5},
		// d2 d4 d5 e1 e2 e5 and x2 x4; the in-flight e3 and skipped x3 have no outcome.
		{"delivery success false", HistoryQuery{DeliverySuccess: boolPtr(false)}, 8},
		{"alert level critical", HistoryQuery{AlertLevel: "critical"}, 2},
		// h2, pA and the warning reports r1 and r2.
		{"alert level warning", HistoryQuery{AlertLevel: "warning"}, 4},
		{"alert level healthy", HistoryQuery{AlertLevel: "healthy"}, 1},
		{"slack executive failures", HistoryQuery{Provider: "slack", ConnectorDeliverySource: "executive_report", DeliverySuccess: boolPtr(false)}, 3},
		{"email deliveries", HistoryQuery{MetadataKind: "delivery", Provider: "email"}, 2},
		{"acknowledgements of email dismissed", HistoryQuery{Provider: "email", AcknowledgementState: "dismissed", MetadataKind: "acknowledgement"}, 1},
		{"state excludes other kinds", HistoryQuery{MetadataKind: "delivery", AcknowledgementState: "acknowledged"}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := tc.query
			q.Limit = MaxHistoryLimit
			page, err := service.History(context.Background(), q)
			if err != nil {
				t.Fatalf("History: %v", err)
			}
			if page.Total != tc.want {
				t.Errorf("total (%s): got %d, want %d", dbtest.Describe(), page.Total, tc.want)
			}
			if int64(len(page.Items)) != tc.want {
				t.Errorf("items: got %d, want %d", len(page.Items), tc.want)
			}
			for _, item := range page.Items {
				if q.MetadataKind != "" && item.MetadataKind != q.MetadataKind {
					t.Errorf("item %s: got kind %s, want %s", item.ID, item.MetadataKind, q.MetadataKind)
				}
				if q.DeliverySuccess != nil && (item.DeliverySuccess == nil || *item.DeliverySuccess != *q.DeliverySuccess) {
					t.Errorf("item %s: got delivery_success %v, want %v", item.ID, item.DeliverySuccess, *q.DeliverySuccess)
				}
				if q.ConnectorDeliverySource != "" && item.ConnectorDeliverySource != q.ConnectorDeliverySource {
					t.Errorf("item %s: got source %q, want %q", item.ID, item.ConnectorDeliverySource, q.ConnectorDeliverySource)
				}
			}
		})
	}
}

func TestHistoryOrderAndPaging(t *testing.T) {
	_, service := openFixture(t)
	ctx := context.Background()

	all, err := service.History(ctx, HistoryQuery{Limit: MaxHistoryLimit})
	if err != nil {
		t.Fatalf("History: %v", err)
	}
	for i := 1; i < len(all.Items); i++ {
		previous, current := all.Items[i-1], all.Items[i]
		if current.CreatedAt.After(previous.CreatedAt) ||
			(current.CreatedAt.Equal(previous.CreatedAt) && current.ID > previous.ID) {
			t.Errorf("order at %d: %s (%s) before %s (%s), want created time then id descending",
				i, previous.ID, previous.CreatedAt, current.ID, current.CreatedAt)
		}
	}
	if len(all.Items) > 0 && (all.Items[0].ID != "e6" || all.Items[len(all.Items)-1].ID != "h1") {
		t.Errorf("ends: got first %s and last %s, want e6 and h1", all.Items[0].ID, all.Items[len(all.Items)-1].ID)
	}

	tests := []struct {
		name          string
		limit, offset int
		wantItems     int
		wantFirst     string
	}{
		{"limit 1", 1, 0, 1, "e6"},
		// x4 and d5 share a start time, so the larger id comes first.
		{"limit 1 second page", 1, 1, 1, "x4"},
		{"limit 1 third page", 1, 2, 1, "d5"},
		{"last item", 10, fixtureTotal - 1, 1, "h1"},
		{"offset at the end", 10, fixtureTotal, 0, ""},
		{"offset past the end", 50, fixtureTotal + 100, 0, ""},
		{"limit 500", 500, 0, fixtureTotal, "e6"},
		{"middle page", 10, 10, 10, all.Items[10].ID},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			page, err := service.History(ctx, HistoryQuery{Limit: tc.limit, Offset: tc.offset})
			if err != nil {
				t.Fatalf("History: %v", err)
			}
			if len(page.Items) != tc.wantItems {
				t.Errorf("items: got %d, want %d", len(page.Items), tc.wantItems)
			}
			if page.Total != fixtureTotal || page.Limit != tc.limit || page.Offset != tc.offset {
				t.Errorf("page: got total %d limit %d offset %d, want %d %d %d", page.Total, page.Limit, page.Offset, fixtureTotal, tc.limit, tc.offset)
			}
			if tc.wantFirst != "" && len(page.Items) > 0 && page.Items[0].ID != tc.wantFirst {
				t.Errorf("first: got %s, want %s", page.Items[0].ID, tc.wantFirst)
			}
			if page.Items == nil {
				t.Errorf("items: got nil, want an empty list")
			}
		})
	}
}

func TestHistoryQueryRejectsInvalid(t *testing.T) {
	service := newTestService(dbtest.Open(t))
	tests := []struct {
		name  string
		query HistoryQuery
		field string
	}{
		{"limit 0", HistoryQuery{Limit: 0}, "limit"},
		{"limit 501", HistoryQuery{Limit: 501}, "limit"},
		{"negative offset", HistoryQuery{Limit: 1, Offset: -1}, "offset"},
		{"unknown kind", HistoryQuery{Limit: 1, MetadataKind: "plan"}, "metadata_kind"},
		{"unknown state", HistoryQuery{Limit: 1, AcknowledgementState: "pending"}, "acknowledgement_state"},
		{"unknown source", HistoryQuery{Limit: 1, ConnectorDeliverySource: "slack"}, "connector_delivery_source"},
		{"unknown level", HistoryQuery{Limit: 1, AlertLevel: "red"}, "alert_level"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := service.History(context.Background(), tc.query)
			var fieldErr *FieldError
			if !errors.As(err, &fieldErr) {
				t.Fatalf("error: got %v, want a *FieldError", err)
			}
			if fieldErr.Field != tc.field {
				t.Errorf("field: got %s, want %s", fieldErr.Field, tc.field)
			}
		})
	}
}

func TestHistoryWorkerRunStatus(t *testing.T) {
	db, service := openFixture(t)
	ctx := context.Background()
	started := audittest.At(40)
	for _, run := range []*models.RetryWorkerRun{
		{ID: "w5", SubjectKind: models.SubjectExecutiveReport, PlanID: "rp1", Actor: "dave", ScheduleCadence: "hourly",
			WindowStart: started, WindowEnd: started.Add(time.Hour), State: models.WorkerRunRunning, CreatedAt: started},
		{ID: "w6", SubjectKind: models.SubjectExecutiveReport, PlanID: "rp1", Actor: "dave", ScheduleCadence: "hourly",
			WindowStart: started, WindowEnd: started.Add(time.Hour), State: models.WorkerRunInterrupted, CreatedAt: started},
	} {
		if err := db.Create(run).Error; err != nil {
			t.Fatalf("create worker run %s: %v", run.ID, err)
		}
	}

	page, err := service.History(ctx, HistoryQuery{MetadataKind: models.HistoryRetryWorkerRun, Limit: MaxHistoryLimit})
	if err != nil {
		t.Fatalf("History: %v", err)
	}
	statuses := map[string]string{}
	for _, item := range page.Items {
		statuses[item.ID] = item.Status
	}
	want := map[string]string{
		"w1": "dry completed", "w2": "dry completed", "w3": "live completed", "w4": "live completed",
		"w5": "live running", "w6": "live interrupted",
	}
	for id, status := range want {
		if statuses[id] != status {
			t.Errorf("worker run %s (%s): got status %q, want %q", id, dbtest.Describe(), statuses[id], status)
		}
	}

	// A filter on an attribute worker runs do not carry still leaves them out.
	outcome, err := service.History(ctx, HistoryQuery{MetadataKind: models.HistoryRetryWorkerRun, DeliverySuccess: boolPtr(true), Limit: MaxHistoryLimit})
	if err != nil {
		t.Fatalf("History with delivery_success: %v", err)
	}
	if outcome.Total != 0 {
		t.Errorf("worker runs with delivery_success=true: got %d, want 0", outcome.Total)
	}
	source, err := service.History(ctx, HistoryQuery{MetadataKind: models.HistoryRetryWorkerRun,
		ConnectorDeliverySource: models.SubjectExecutiveReport, Limit: MaxHistoryLimit})
	if err != nil {
		t.Fatalf("History with connector_delivery_source: %v", err)
	}
	if source.Total != 5 {
		t.Errorf("executive worker runs: got %d, want 5 (w1, w2, w3, w5, w6)", source.Total)
	}
}
