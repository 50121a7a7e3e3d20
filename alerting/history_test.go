package alerting_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/releaseops/evidence-console/alerting"
)

// historyFixture builds alerts with known numbers:
//
//	plan 1 (all):  alpha sent, beta failed, gamma failed
//	plan 2 (all):  alpha suppressed, beta failed, gamma failed
//	beta's URL is fixed and the application restarted
//	plan 3 (beta): beta sent, which closes beta's two failures
//	actions: alpha acknowledged, gamma escalated twice (the second a repeat)
func historyFixture(t *testing.T) (*fixture, [3]alerting.DeliverResult) {
	t.Helper()
	f := newFixture(t, map[string]string{"alpha": "/webhook/alpha", "beta": "/fail/503/beta", "gamma": "/fail/500/gamma"})
	var results [3]alerting.DeliverResult
	results[0] = f.deliver(t, nil)
	f.clock.Advance(time.Minute)
	results[1] = f.deliver(t, nil)
	f.clock.Advance(time.Minute)
	f.configure(t, map[string]string{"alpha": "/webhook/alpha", "beta": "/webhook/beta", "gamma": "/fail/500/gamma"})
	results[2] = f.deliver(t, func(r *alerting.DeliverRequest) { r.Provider = "beta" })

	f.clock.Advance(time.Minute)
	f.acknowledge(t, results[0].Health.HealthID, "alpha", "acknowledged")
	f.clock.Advance(time.Minute)
	f.acknowledge(t, results[1].Health.HealthID, "gamma", "escalated")
	f.clock.Advance(time.Minute)
	f.acknowledge(t, results[1].Health.HealthID, "gamma", "escalated")
	return f, results
}

func TestDashboardCounts(t *testing.T) {
	f, results := historyFixture(t)
	if len(results[2].Delivery) != 1 || !results[2].Delivery[0].Success {
		t.Fatalf("plan 3: got %+v, want one successful delivery to beta", results[2].Delivery)
	}

	d, err := f.service.Dashboard(context.Background(), alerting.DefaultOutstandingQuery())
	if err != nil {
		t.Fatalf("Dashboard: %v", err)
	}

	counts := []struct {
		name      string
		got, want int64
	}{
		{"plan_count", d.PlanCount, 3},
		{"delivery_count", d.DeliveryCount, 6},
		{"delivered_count", d.DeliveredCount, 2},
		{"failed_delivery_count", d.FailedDeliveryCount, 2},
		{"suppressed_provider_count", d.SuppressedProviderCount, 1},
		{"acknowledgement_count", d.AcknowledgementCount, 3},
		{"outstanding_acknowledgement_count", d.OutstandingAcknowledgementCount, 2},
	}
	for _, c := range counts {
		if c.got != c.want {
			t.Errorf("%s: got %d, want %d", c.name, c.got, c.want)
		}
	}
	if d.AlertLevel != "critical" {
		t.Errorf("alert_level: got %q, want critical", d.AlertLevel)
	}
	outstanding := map[string]string{}
	for _, o := range d.OutstandingAcknowledgements {
		outstanding[o.Provider] = o.AcknowledgementState
	}
	if outstanding["beta"] != "pending" || outstanding["gamma"] != "escalated" || len(outstanding) != 2 {
		t.Errorf("outstanding: got %v, want beta pending and gamma escalated", outstanding)
	}
	if len(d.Latest) != alerting.LatestListLimit {
		t.Errorf("latest: got %d items, want %d", len(d.Latest), alerting.LatestListLimit)
	}
}

// The dashboard lists the first 20 outstanding acknowledgements, which for
// one alert go by destination name, and counts all of them.
func TestDashboardListsFirst20Outstanding(t *testing.T) {
	paths := map[string]string{}
	var names []string
	for i := range 23 {
		name := fmt.Sprintf("dest%02d", i)
		paths[name] = "/webhook/" + name
		names = append(names, name)
	}
	f := newFixture(t, paths)
	result := f.deliver(t, nil)
	if len(result.Delivery) != 23 {
		t.Fatalf("deliveries: got %d, want 23", len(result.Delivery))
	}

	d, err := f.service.Dashboard(context.Background(), alerting.DefaultOutstandingQuery())
	if err != nil {
		t.Fatalf("Dashboard: %v", err)
	}

	if d.OutstandingAcknowledgementCount != 23 {
		t.Errorf("outstanding_acknowledgement_count: got %d, want 23", d.OutstandingAcknowledgementCount)
	}
	if got := len(d.OutstandingAcknowledgements); got != 20 {
		t.Fatalf("outstanding_acknowledgements: got %d items, want 20", got)
	}
	for i, item := range d.OutstandingAcknowledgements {
		if item.Provider != names[i] {
			t.Errorf("outstanding item %d: got %s, want %s", i, item.Provider, names[i])
		}
	}
}

func TestHistoryFiltersAndPaging(t *testing.T) {
	f, results := historyFixture(t)
	yes, no := true, false

	cases := []struct {
		name  string
		query alerting.HistoryQuery
		want  int64
	}{
		{"everything", alerting.HistoryQuery{}, 12},
		{"provider", alerting.HistoryQuery{Provider: "GAMMA"}, 6},
		{"suppressed", alerting.HistoryQuery{Suppressed: &yes}, 1},
		{"suppressed for beta", alerting.HistoryQuery{Suppressed: &yes, Provider: "beta"}, 0},
		// Only plans have the attribute, so deliveries and acknowledgements
		// are left out either way.
		{"not suppressed", alerting.HistoryQuery{Suppressed: &no}, 2},
		{"not suppressed deliveries", alerting.HistoryQuery{Suppressed: &no, MetadataKind: "delivery"}, 0},
		{"deliveries", alerting.HistoryQuery{MetadataKind: alerting.KindAlertDelivery}, 6},
		{"plans", alerting.HistoryQuery{MetadataKind: alerting.KindAlertPlan}, 3},
		{"plans by short name", alerting.HistoryQuery{MetadataKind: "plan"}, 3},
		{"deliveries by short name", alerting.HistoryQuery{MetadataKind: "delivery"}, 6},
		{"escalated", alerting.HistoryQuery{AcknowledgementState: "escalated"}, 2},
		{"health_id", alerting.HistoryQuery{HealthID: results[2].Health.HealthID}, 2},
		{"alpha deliveries", alerting.HistoryQuery{Provider: "alpha", MetadataKind: alerting.KindAlertDelivery}, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.query.Limit = 500
			page, err := f.service.History(context.Background(), tc.query)
			if err != nil {
				t.Fatalf("History: %v", err)
			}
			if page.Total != tc.want || int64(len(page.Items)) != tc.want {
				t.Errorf("total %d with %d items, want %d", page.Total, len(page.Items), tc.want)
			}
			for i := 1; i < len(page.Items); i++ {
				if page.Items[i].CreatedAt.After(page.Items[i-1].CreatedAt) {
					t.Errorf("item %d (%s) is newer than item %d: not newest first", i, page.Items[i].ID, i-1)
				}
			}
		})
	}

	all, err := f.service.History(context.Background(), alerting.HistoryQuery{Limit: 500})
	if err != nil {
		t.Fatalf("History: %v", err)
	}
	page, err := f.service.History(context.Background(), alerting.HistoryQuery{Limit: 5, Offset: 10})
	if err != nil {
		t.Fatalf("History page: %v", err)
	}
	if page.Total != 12 || len(page.Items) != 2 || page.Limit != 5 || page.Offset != 10 {
		t.Fatalf("page: total %d, %d items, limit %d, offset %d; want 12, 2, 5, 10", page.Total, len(page.Items), page.Limit, page.Offset)
	}
	for i, item := range page.Items {
		if item.ID != all.Items[10+i].ID {
			t.Errorf("page item %d: got %s, want %s", i, item.ID, all.Items[10+i].ID)
		}
	}
	if newest := all.Items[0]; newest.MetadataKind != alerting.KindAlertAcknowledgement || newest.Acknowledgement == nil || !newest.Acknowledgement.Repeat {
		t.Errorf("newest item: got %+v, want the repeated gamma acknowledgement", newest)
	}
}

func TestDashboardPagesOutstanding(t *testing.T) {
	f, _ := historyFixture(t)
	all, err := f.service.Dashboard(context.Background(), alerting.DefaultOutstandingQuery())
	if err != nil {
		t.Fatalf("Dashboard: %v", err)
	}
	if len(all.OutstandingAcknowledgements) != 2 {
		t.Fatalf("first page: got %d items, want both outstanding items", len(all.OutstandingAcknowledgements))
	}

	for offset, want := range all.OutstandingAcknowledgements {
		page, err := f.service.Dashboard(context.Background(), alerting.OutstandingQuery{Limit: 1, Offset: offset})
		if err != nil {
			t.Fatalf("Dashboard at offset %d: %v", offset, err)
		}
		if page.OutstandingAcknowledgementCount != 2 {
			t.Errorf("offset %d: count %d, want 2 whatever the page", offset, page.OutstandingAcknowledgementCount)
		}
		if len(page.OutstandingAcknowledgements) != 1 || page.OutstandingAcknowledgements[0] != want {
			t.Errorf("offset %d: got %+v, want %+v", offset, page.OutstandingAcknowledgements, want)
		}
	}

	for _, q := range []alerting.OutstandingQuery{{Limit: 0}, {Limit: alerting.MaxHistoryLimit + 1}, {Limit: 1, Offset: -1}} {
		var fieldErr *alerting.FieldError
		if _, err := f.service.Dashboard(context.Background(), q); !errors.As(err, &fieldErr) {
			t.Errorf("%+v: got %v, want a field error", q, err)
		}
	}
}

// A healthy evaluation's plan stores no destination row, but it includes
// its eligible destinations, so the provider filter keeps it for them and
// only for them.
func TestHistoryProviderKeepsHealthyPlan(t *testing.T) {
	f := newFixture(t, map[string]string{"alpha": "/webhook/alpha", "a_pha": "/webhook/a_pha"})
	f.ingestFreshRetryPlan(t, "plan-1")
	ingestFreshWorkerRun(t, f, "run-1")
	result := f.deliver(t, func(r *alerting.DeliverRequest) { r.Provider = "alpha" })
	if result.Health.AlertLevel != "healthy" {
		t.Fatalf("alert level: got %q, want healthy", result.Health.AlertLevel)
	}

	cases := []struct {
		provider string
		want     int64
	}{
		{"alpha", 1},
		// An underscore is a LIKE wildcard, so it must match only itself.
		{"a_pha", 0},
		{"alph", 0},
	}
	for _, tc := range cases {
		page, err := f.service.History(context.Background(), alerting.HistoryQuery{Provider: tc.provider, Limit: 50})
		if err != nil {
			t.Fatalf("History for %s: %v", tc.provider, err)
		}
		if page.Total != tc.want {
			t.Errorf("provider %s: got %d items, want %d", tc.provider, page.Total, tc.want)
		}
		if tc.want == 1 && (len(page.Items) != 1 || page.Items[0].ID != result.Plan.PlanID) {
			t.Errorf("provider %s: got %+v, want the healthy plan %s", tc.provider, page.Items, result.Plan.PlanID)
		}
	}
	no := false
	page, err := f.service.History(context.Background(), alerting.HistoryQuery{Provider: "alpha", Suppressed: &no, Limit: 50})
	if err != nil {
		t.Fatalf("History not suppressed: %v", err)
	}
	if page.Total != 1 {
		t.Errorf("not suppressed for alpha: got %d items, want the healthy plan", page.Total)
	}
}
