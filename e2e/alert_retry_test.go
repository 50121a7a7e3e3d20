package e2e

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/releaseops/evidence-console/alerting"
	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/delivery"
	"github.com/releaseops/evidence-console/health"
	"github.com/releaseops/evidence-console/models"
)

// failedAlertDelivery sends a retry health alert to the webhook destination
// through a connector to which the receiver responds with HTTP 500, writing to
// the app's database as the server's own send would. It returns the
// idempotency key of the failed delivery.
func failedAlertDelivery(t *testing.T, a *app) string {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := connectors.FileConfig{Connectors: map[string]connectors.ConnectorConfig{
		"webhook": {Kind: connectors.KindWebhook, URLEnv: "E2E_FAILING_URL"},
	}}
	env := map[string]string{"E2E_FAILING_URL": a.Receiver.URL + "/fail/500/webhook"}
	registry, err := connectors.NewRegistry(cfg, func(name string) (string, bool) { value, ok := env[name]; return value, ok },
		connectors.WithLogger(logger))
	if err != nil {
		t.Fatalf("build the failing registry: %v", err)
	}
	service := &alerting.Service{
		DB: a.DB, Health: &health.Service{DB: a.DB, Now: time.Now, Logger: logger}, Destinations: registry,
		Delivery:  &delivery.Service{DB: a.DB, Sender: registry, Now: time.Now, Logger: logger},
		PublicURL: a.BaseURL, Now: time.Now, Logger: logger,
	}
	request := alerting.DefaultDeliverRequest()
	request.Provider, request.Retries, request.TimeoutSeconds, request.Actor = "webhook", 0, 5, "e2e"
	result, err := service.Deliver(context.Background(), request)
	if err != nil {
		t.Fatalf("send the alert: %v", err)
	}
	if result.Success {
		t.Fatal("send the alert: succeeded, want a failure at webhook")
	}

	var key string
	if err := a.DB.Table("deliveries").Where("connector = ? AND subject_kind = ?", "webhook", models.SubjectHealthAlert).Pluck("idempotency_key", &key).Error; err != nil {
		t.Fatalf("read the failed delivery: %v", err)
	}
	if key == "" {
		t.Fatal("no failed alert delivery to webhook was stored")
	}
	return key
}

// TestAlertRetryPlanDryAndLiveRun plans a health alert retry in the
// console, runs it dry, confirms a live run to the local receiver and
// checks the execution records in the console and on the run's page.
func TestAlertRetryPlanDryAndLiveRun(t *testing.T) {
	a := startApp(t, appOptions{SampleData: true})
	key := failedAlertDelivery(t, a)
	a.Receiver.Reset()
	ctx := newBrowser(t)
	signIn(t, ctx, a, "release_manager")

	// The failure is seconds old, so the plan allows an immediate retry.
	// The run form takes the policy typed into the plan form.
	plan := `[data-testid="alert-retry-plan-form"] `
	err := chromedp.Do(ctx,
		chromedp.Navigate(a.BaseURL+"/console#alert-retry"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="plan-alert-retry"]`)),
		chromedp.SetValue(chromedp.CSS(plan+`input[name="retry_delay_minutes"]`), "0"),
		chromedp.Click(chromedp.CSS(plan+`input[name="allow_immediate_retry"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="plan-alert-retry"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="alert-retry-plan-id"]`)),
		// The section's health panel reloads and now finds the new plan.
		chromedp.WaitVisible(chromedp.CSS(`#alert-retry-health [data-testid="alert-retry-latest-plan-age"]`)),
	)
	if err != nil {
		t.Fatalf("plan from the console: %v", err)
	}
	if got := attributeOf(t, ctx, `#alert-retry-plan [data-testid="alert-retry-decision"]`, "data-action"); got != "retry" {
		t.Errorf("planned action = %q, want retry", got)
	}
	// The executive section has nothing to plan and is left as it was.
	if got := textOf(t, ctx, `#executive-retry-plan`); !strings.Contains(got, "No retry plan yet") {
		t.Errorf("executive plan panel = %q, want no plan", got)
	}

	run := `[data-testid="alert-retry-run-form"] `
	err = chromedp.Do(ctx,
		// SetValue sends no input event, so the run form gets the delay here.
		chromedp.SetValue(chromedp.CSS(run+`input[name="retry_delay_minutes"]`), "0"),
		chromedp.Click(chromedp.CSS(`[data-testid="run-alert-retry"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#alert-retry-run[data-mode="dry_run"]`)),
	)
	if err != nil {
		t.Fatalf("dry run from the console: %v", err)
	}
	if got := textOf(t, ctx, `[data-testid="alert-retry-run-counts"]`); !strings.HasPrefix(got, "1 selected") {
		t.Errorf("dry run counts = %q, want 1 selected", got)
	}
	if got := len(a.Receiver.Requests()); got != 0 {
		t.Fatalf("receiver requests after the dry run = %d, want 0", got)
	}

	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`[data-testid="alert-prepare-live-retry"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="alert-retry-confirm"]`)),
	)
	if err != nil {
		t.Fatalf("prepare the live run: %v", err)
	}
	if got := textOf(t, ctx, `[data-testid="alert-retry-confirm-summary"]`); !strings.Contains(got, "1 retry delivery to webhook") {
		t.Errorf("confirmation = %q, want it to name 1 delivery to webhook", got)
	}
	if got := len(a.Receiver.Requests()); got != 0 {
		t.Fatalf("receiver requests before confirming = %d, want 0", got)
	}

	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`[data-testid="alert-retry-confirm-checkbox"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="alert-run-live-retry"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#alert-retry-run[data-mode="live"]`)),
	)
	if err != nil {
		t.Fatalf("confirmed live run: %v", err)
	}
	if got := attributeOf(t, ctx, `[data-testid="alert-retry-execution"]`, "data-outcome"); got != "delivered" {
		t.Errorf("execution outcome = %q, want delivered", got)
	}
	requests := a.Receiver.Requests()
	if len(requests) != 1 || requests[0].Path != "/webhook/e2e" {
		t.Fatalf("receiver requests after the live run = %d, want 1 to /webhook/e2e", len(requests))
	}
	if got := requests[0].Headers.Get("webhook-id"); got != key {
		t.Errorf("webhook-id = %q, want the original delivery's key %q", got, key)
	}
	// The live run changed what the plan decided, so the plan notes it.
	if got := textOf(t, ctx, `[data-testid="alert-retry-plan-stale"]`); !strings.Contains(got, "ran after this plan") {
		t.Errorf("plan note after the live run = %q, want it to say that a run came after the plan", got)
	}

	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`[data-testid="alert-retry-run-link"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="retry-run-detail"]`)),
	)
	if err != nil {
		t.Fatalf("open the run page: %v", err)
	}
	if got := attributeOf(t, ctx, `[data-testid="retry-execution"]`, "data-outcome"); got != "delivered" {
		t.Errorf("execution outcome on the run page = %q, want delivered", got)
	}
	if got := textOf(t, ctx, `[data-testid="retry-run-detail"]`); !strings.Contains(got, "health alert") {
		t.Errorf("run page details = %q, want deliveries of health alert", got)
	}
}
