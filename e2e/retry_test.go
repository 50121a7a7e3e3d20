package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/releaseops/evidence-console/executive"
	"github.com/releaseops/evidence-console/models"
)

// failedExecutiveDelivery schedules an executive report in the app's
// database and records a failed delivery of it to the webhook connector two
// hours ago, as a failed first send would.
func failedExecutiveDelivery(t *testing.T, a *app) string {
	t.Helper()
	ctx := context.Background()
	service := &executive.Service{DB: a.DB, Now: time.Now}
	result, err := service.RunSchedule(ctx, executive.DefaultParams(), executive.ScheduleInput{}, "e2e")
	if err != nil {
		t.Fatalf("schedule an executive report: %v", err)
	}
	runID := result.ScheduleRun.RunID

	at := time.Now().Add(-2 * time.Hour).UTC()
	record := models.Delivery{
		ID: models.NewID("dlv", at), SubjectKind: models.SubjectExecutiveReport, SubjectID: runID,
		SubjectKey: result.Report.ReportID, Connector: "webhook", State: models.DeliveryInFlight, Attempts: "[]",
		RequestSummary: "{}", IdempotencyKey: "e2e-executive-" + runID, Origin: models.OriginSend, Actor: "e2e",
		StartedAt: at, CreatedAt: at,
	}
	if err := models.CreateDelivery(a.DB, &record); err != nil {
		t.Fatalf("store delivery: %v", err)
	}
	record.ErrorClass, record.StatusCode, record.ConnectorKind, record.CompletedAt = "server_error", 503, "webhook", &at
	if err := models.CompleteDelivery(ctx, a.DB, &record); err != nil {
		t.Fatalf("complete delivery: %v", err)
	}
	return runID
}

// TestExecutiveRetryPlanDryAndLiveRun plans a retry, runs it dry, then
// confirms a live run in the browser and checks the execution record.
func TestExecutiveRetryPlanDryAndLiveRun(t *testing.T) {
	a := startApp(t, appOptions{SampleData: true})
	runID := failedExecutiveDelivery(t, a)
	ctx := newBrowser(t)
	signIn(t, ctx, a, "release_manager")

	err := chromedp.Do(ctx,
		chromedp.Navigate(a.BaseURL+"/console"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="plan-executive-retry"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="plan-executive-retry"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="retry-plan-id"]`)),
		// The retry health panel reloads and now finds the new plan.
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="retry-latest-plan-age"]`)),
	)
	if err != nil {
		t.Fatalf("plan from the console: %v", err)
	}
	if got := attributeOf(t, ctx, `#executive-retry-plan [data-testid="retry-decision"]`, "data-action"); got != "retry" {
		t.Errorf("planned action = %q, want retry", got)
	}

	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`[data-testid="run-executive-retry"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="retry-run"][data-mode="dry_run"]`)),
	)
	if err != nil {
		t.Fatalf("dry run from the console: %v", err)
	}
	if got := textOf(t, ctx, `[data-testid="retry-run-counts"]`); !strings.HasPrefix(got, "1 selected") {
		t.Errorf("dry run counts = %q, want 1 selected", got)
	}
	if got := len(a.Receiver.Requests()); got != 0 {
		t.Fatalf("receiver requests after the dry run = %d, want 0", got)
	}

	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`[data-testid="prepare-live-retry"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="retry-confirm"]`)),
	)
	if err != nil {
		t.Fatalf("prepare the live run: %v", err)
	}
	if got := textOf(t, ctx, `[data-testid="retry-confirm-summary"]`); !strings.Contains(got, "1 retry delivery to webhook") {
		t.Errorf("confirmation = %q, want it to name 1 delivery to webhook", got)
	}
	if got := len(a.Receiver.Requests()); got != 0 {
		t.Fatalf("receiver requests before confirming = %d, want 0", got)
	}

	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`[data-testid="retry-confirm-checkbox"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="run-live-retry"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="retry-run"][data-mode="live"]`)),
	)
	if err != nil {
		t.Fatalf("confirmed live run: %v", err)
	}
	if got := attributeOf(t, ctx, `[data-testid="retry-execution"]`, "data-outcome"); got != "delivered" {
		t.Errorf("execution outcome = %q, want delivered", got)
	}
	requests := a.Receiver.Requests()
	if len(requests) != 1 || requests[0].Path != "/webhook/e2e" {
		t.Fatalf("receiver requests after the live run = %d, want 1 to /webhook/e2e", len(requests))
	}
	if got := requests[0].Headers.Get("webhook-id"); got != "e2e-executive-"+runID {
		t.Errorf("webhook-id = %q, want the original delivery's key %q", got, "e2e-executive-"+runID)
	}

	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`[data-testid="retry-run-link"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="retry-run-detail"]`)),
	)
	if err != nil {
		t.Fatalf("open the run page: %v", err)
	}
	if got := attributeOf(t, ctx, `[data-testid="retry-execution"]`, "data-outcome"); got != "delivered" {
		t.Errorf("execution outcome on the run page = %q, want delivered", got)
	}
}

// TestRetryFormErrorMarksField requests a live run whose sends could outlast
// the in-flight timeout. The page marks the input the error names, and the
// message uses the input's label.
func TestRetryFormErrorMarksField(t *testing.T) {
	a := startApp(t, appOptions{SampleData: true})
	failedExecutiveDelivery(t, a)
	ctx := newBrowser(t)
	signIn(t, ctx, a, "release_manager")

	form := `[data-testid="retry-run-form"] `
	err := chromedp.Do(ctx,
		chromedp.Navigate(a.BaseURL+"/console"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="prepare-live-retry"]`)),
		chromedp.SetValue(chromedp.CSS(form+`input[name="max_retry_deliveries"]`), "25"),
		chromedp.SetValue(chromedp.CSS(form+`input[name="retries"]`), "5"),
		chromedp.SetValue(chromedp.CSS(form+`input[name="timeout_seconds"]`), "60"),
		chromedp.Click(chromedp.CSS(`[data-testid="prepare-live-retry"]`)),
		chromedp.WaitVisible(chromedp.CSS(form+`[data-testid="error-field-label"]`)),
	)
	if err != nil {
		t.Fatalf("prepare a live run that is too long: %v", err)
	}
	if got := textOf(t, ctx, form+`[data-testid="error-field-label"]`); got != "Check \u201cTimeout per attempt (s)\u201d." {
		t.Errorf("field note = %q, want it to name the timeout's label", got)
	}
	if got := attributeOf(t, ctx, form+`input[name="timeout_seconds"]`, "aria-invalid"); got != "true" {
		t.Errorf("timeout input aria-invalid = %q, want true", got)
	}
	// The field is marked by its border too, not only for screen readers.
	border, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`getComputedStyle(document.querySelector('[data-testid="retry-run-form"] input[name="timeout_seconds"]')).borderTopColor`))
	if err != nil {
		t.Fatalf("read the timeout input's border: %v", err)
	}
	if border != "rgb(220, 38, 38)" {
		t.Errorf("timeout input border colour = %q, want red rgb(220, 38, 38)", border)
	}
	// A screen reader reads the message through aria-describedby.
	describedBy := attributeOf(t, ctx, form+`input[name="timeout_seconds"]`, "aria-describedby")
	if describedBy == "" {
		t.Fatal("timeout input aria-describedby is empty, want the id of the error box")
	}
	if got := textOf(t, ctx, "#"+describedBy); !strings.Contains(got, "\u2018Timeout per attempt (s)\u2019") || strings.Contains(got, "HTTP") {
		t.Errorf("text the timeout input refers to = %q, want the message naming the timeout's label without an HTTP status", got)
	}
	if got := len(a.Receiver.Requests()); got != 0 {
		t.Errorf("receiver requests = %d, want 0", got)
	}
}

// TestRetryZeroDelayFocusesCheckbox prepares a live run with a delay of 0
// and immediate retries not allowed. The usual fix is the checkbox, so it
// takes the focus.
func TestRetryZeroDelayFocusesCheckbox(t *testing.T) {
	a := startApp(t, appOptions{SampleData: true})
	failedExecutiveDelivery(t, a)
	ctx := newBrowser(t)
	signIn(t, ctx, a, "release_manager")

	form := `[data-testid="retry-run-form"] `
	err := chromedp.Do(ctx,
		chromedp.Navigate(a.BaseURL+"/console"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="prepare-live-retry"]`)),
		chromedp.SetValue(chromedp.CSS(form+`input[name="retry_delay_minutes"]`), "0"),
		chromedp.Click(chromedp.CSS(`[data-testid="prepare-live-retry"]`)),
		chromedp.WaitVisible(chromedp.CSS(form+`[data-testid="error-fragment"]`)),
	)
	if err != nil {
		t.Fatalf("prepare a live run with a delay of 0: %v", err)
	}
	want := "Not done: Tick \u2018Allow immediate retry (delay 0)\u2019, or set \u2018Retry delay (minutes)\u2019 to at least 1."
	if got := textOf(t, ctx, form+`[data-testid="error-fragment"]`); !strings.HasPrefix(got, want) {
		t.Errorf("message = %q, want it to start with %q", got, want)
	}
	focused, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.name || document.activeElement.tagName`))
	if err != nil {
		t.Fatalf("read the focused element: %v", err)
	}
	if focused != "allow_immediate_retry" {
		t.Errorf("focused element = %q, want the allow_immediate_retry checkbox", focused)
	}
	if got := attributeOf(t, ctx, form+`input[name="allow_immediate_retry"]`, "aria-invalid"); got != "true" {
		t.Errorf("checkbox aria-invalid = %q, want true", got)
	}
}

// TestRetryPolicyFieldsStayInStep checks that the run form takes the
// policy typed into the plan form, so a dry run uses the plan's policy.
func TestRetryPolicyFieldsStayInStep(t *testing.T) {
	a := startApp(t, appOptions{SampleData: true})
	ctx := newBrowser(t)
	signIn(t, ctx, a, "release_manager")

	plan := `[data-testid="retry-plan-form"] `
	run := `[data-testid="retry-run-form"] `
	err := chromedp.Do(ctx,
		chromedp.Navigate(a.BaseURL+"/console"),
		chromedp.WaitVisible(chromedp.CSS(plan+`input[name="retry_delay_minutes"]`)),
		chromedp.Click(chromedp.CSS(plan+`input[name="retry_delay_minutes"]`)),
		chromedp.KeyEvent("\b\b\b0"),
		chromedp.Click(chromedp.CSS(plan+`input[name="allow_immediate_retry"]`)),
	)
	if err != nil {
		t.Fatalf("change the plan form's policy: %v", err)
	}

	delay, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('`+run+`input[name="retry_delay_minutes"]').value`))
	if err != nil {
		t.Fatalf("read the run form's delay: %v", err)
	}
	if delay != "0" {
		t.Errorf("run form delay = %q, want 0 as typed into the plan form", delay)
	}
	immediate, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('`+run+`input[name="allow_immediate_retry"]').checked`))
	if err != nil {
		t.Fatalf("read the run form's immediate retry box: %v", err)
	}
	if !immediate {
		t.Errorf("run form immediate retry = false, want it ticked as in the plan form")
	}
}

// TestRetryPlanErrorClearsOnSuccess submits the plan form with an empty
// field and then with a valid one. The success clears the earlier message
// and the field's invalid mark.
func TestRetryPlanErrorClearsOnSuccess(t *testing.T) {
	a := startApp(t, appOptions{SampleData: true})
	ctx := newBrowser(t)
	signIn(t, ctx, a, "release_manager")

	form := `[data-testid="retry-plan-form"] `
	attempts := form + `input[name="max_retry_attempts"]`
	err := chromedp.Do(ctx,
		chromedp.Navigate(a.BaseURL+"/console"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="plan-executive-retry"]`)),
		// The browser's own check would stop an empty value before it is sent.
		chromedp.SetAttributeValue(chromedp.CSS(form), "novalidate", ""),
		chromedp.SetValue(chromedp.CSS(attempts), ""),
		chromedp.Click(chromedp.CSS(`[data-testid="plan-executive-retry"]`)),
		chromedp.WaitVisible(chromedp.CSS(form+`[data-testid="error-fragment"]`)),
	)
	if err != nil {
		t.Fatalf("plan with an empty field: %v", err)
	}
	if got := attributeOf(t, ctx, attempts, "aria-invalid"); got != "true" {
		t.Fatalf("attempts aria-invalid after the error = %q, want true", got)
	}

	err = chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS(attempts), "3"),
		chromedp.Click(chromedp.CSS(`[data-testid="plan-executive-retry"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="retry-plan-id"]`)),
		chromedp.WaitNotPresent(chromedp.CSS(form+`[data-testid="error-fragment"]`)),
	)
	if err != nil {
		t.Fatalf("plan after fixing the field: %v", err)
	}
	if got := attributeOf(t, ctx, attempts, "aria-invalid"); got != "" {
		t.Errorf("attempts aria-invalid after the success = %q, want none", got)
	}
	// The plan's counts are read out, although the button that made it is
	// outside the result.
	if got := announcement(t, ctx, "to retry"); !strings.Contains(got, "to retry") {
		t.Errorf("announcement after planning = %q, want the plan's counts", got)
	}
}

// TestLiveRetryHidesCancelWhileSending confirms a live run to a destination
// that never responds and checks that Cancel is hidden while the run is sent,
// because leaving the page would not stop it.
func TestLiveRetryHidesCancelWhileSending(t *testing.T) {
	a := startApp(t, appOptions{
		SampleData:      true,
		ConnectorConfig: "connectors:\n  webhook:\n    kind: webhook\n    url_env: E2E_SLOW_URL\n",
		Env:             map[string]string{"E2E_SLOW_URL": "%s/hang/webhook"},
	})
	failedExecutiveDelivery(t, a)
	ctx := newBrowser(t)
	signIn(t, ctx, a, "release_manager")

	runForm := `[data-testid="retry-run-form"] `
	err := chromedp.Do(ctx,
		chromedp.Navigate(a.BaseURL+"/console"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="prepare-live-retry"]`)),
		chromedp.SetValue(chromedp.CSS(runForm+`[name="retries"]`), "0"),
		chromedp.SetValue(chromedp.CSS(runForm+`[name="timeout_seconds"]`), "2"),
		chromedp.Click(chromedp.CSS(`[data-testid="prepare-live-retry"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="retry-confirm-cancel"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="retry-confirm-checkbox"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="run-live-retry"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#retry-live-progress`)),
	)
	if err != nil {
		t.Fatalf("start a live run to a destination that never responds: %v", err)
	}
	cancelShown, err := chromedp.Run(ctx, chromedp.Evaluate[bool](
		`getComputedStyle(document.querySelector('[data-testid="retry-confirm-cancel"]')).display !== "none"`))
	if err != nil {
		t.Fatalf("read the Cancel link's display: %v", err)
	}
	if cancelShown {
		t.Error("Cancel is shown while the live run is sent, want it hidden")
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`[data-testid="retry-run"][data-mode="live"]`))); err != nil {
		t.Fatalf("wait for the live run's result: %v", err)
	}
	if got := attributeOf(t, ctx, `[data-testid="retry-execution"]`, "data-outcome"); got != "failed" {
		t.Errorf("execution outcome = %q, want failed after the timeout", got)
	}
}

// TestLiveRetryCancelKeepsTypedFields cancels a live run's confirmation and
// checks that the panel it replaced comes back, the fields typed before it
// keep their values and the focus returns to the button that opened it.
func TestLiveRetryCancelKeepsTypedFields(t *testing.T) {
	a := startApp(t, appOptions{SampleData: true})
	failedExecutiveDelivery(t, a)
	ctx := newBrowser(t)
	signIn(t, ctx, a, "release_manager")

	runForm := `[data-testid="retry-run-form"] `
	err := chromedp.Do(ctx,
		chromedp.Navigate(a.BaseURL+"/console"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="prepare-live-retry"]`)),
		chromedp.SetValue(chromedp.CSS(runForm+`[name="timeout_seconds"]`), "7"),
		chromedp.Click(chromedp.CSS(`[data-testid="prepare-live-retry"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="retry-confirm-cancel"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="retry-confirm-cancel"]`)),
		chromedp.WaitNotPresent(chromedp.CSS(`[data-testid="retry-confirm"]`)),
		// The panel the confirmation replaced comes back.
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="retry-run-empty"]`)),
	)
	if err != nil {
		t.Fatalf("prepare and cancel a live run: %v", err)
	}
	if got := textOf(t, ctx, `[data-testid="announcer"]`); got != "Live run cancelled; nothing was sent." {
		t.Errorf("announcement after cancelling = %q, want that nothing was sent", got)
	}
	if got := len(a.Receiver.Requests()); got != 0 {
		t.Errorf("receiver requests after cancelling = %d, want 0", got)
	}
	timeout, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`document.querySelector('[data-testid="retry-run-form"] [name="timeout_seconds"]').value`))
	if err != nil {
		t.Fatalf("read the timeout field: %v", err)
	}
	if timeout != "7" {
		t.Errorf("timeout field after cancelling = %q, want the typed 7", timeout)
	}
	focused, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.getAttribute("data-testid") || ""`))
	if err != nil {
		t.Fatalf("read the focused element: %v", err)
	}
	if focused != "prepare-live-retry" {
		t.Errorf("focused element after cancelling = %q, want the Prepare live run button", focused)
	}

	// After a dry run, cancelling a confirmation brings the run's panel back.
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`[data-testid="run-executive-retry"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="retry-run"][data-mode="dry_run"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="prepare-live-retry"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="retry-confirm-cancel"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="retry-confirm-cancel"]`)),
		chromedp.WaitNotPresent(chromedp.CSS(`[data-testid="retry-confirm"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="retry-run"][data-mode="dry_run"]`)),
	)
	if err != nil {
		t.Fatalf("cancel a confirmation after a dry run: %v", err)
	}
}

// TestLiveRetryCancelByEnterKey presses Enter on a live run
// confirmation's Cancel link, as a keyboard user does. Chromium follows a
// link on the key's keydown and presses a button on its keypress, so the
// Cancel link must not move the focus to "Prepare live run…" before the
// key is released, or that keypress opens the confirmation again.
func TestLiveRetryCancelByEnterKey(t *testing.T) {
	a := startApp(t, appOptions{SampleData: true})
	failedExecutiveDelivery(t, a)
	ctx := newBrowser(t)
	signIn(t, ctx, a, "release_manager")

	err := chromedp.Do(ctx,
		chromedp.Navigate(a.BaseURL+"/console"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="prepare-live-retry"]`)),
		chromedp.Focus(chromedp.CSS(`[data-testid="prepare-live-retry"]`)),
		chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="retry-confirm-cancel"]`)),
		chromedp.Focus(chromedp.CSS(`[data-testid="retry-confirm-cancel"]`)),
		chromedp.KeyEvent("\r"),
		// A confirmation opened again by the keypress would arrive within
		// this wait, because the server responds on loopback.
		chromedp.Sleep(1500*time.Millisecond),
	)
	if err != nil {
		t.Fatalf("prepare a live run and cancel it with Enter: %v", err)
	}
	open, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('[data-testid="retry-confirm"]') !== null`))
	if err != nil {
		t.Fatalf("look for the confirmation: %v", err)
	}
	if open {
		t.Error("confirmation is open again after Enter on Cancel, want it closed")
	}
	focused, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.getAttribute("data-testid") || document.activeElement.tagName`))
	if err != nil {
		t.Fatalf("read the focused element: %v", err)
	}
	if focused != "prepare-live-retry" {
		t.Errorf("focused element after Enter on Cancel = %q, want the Prepare live run button", focused)
	}
	if got := textOf(t, ctx, `[data-testid="announcer"]`); got != "Live run cancelled; nothing was sent." {
		t.Errorf("announcement after Enter on Cancel = %q, want that nothing was sent", got)
	}
}

// TestLiveRetryCancelByHeldEnterKey holds Enter on Cancel past the wait
// after which the focus moves to "Prepare live run…". The key's repeats
// must not press that button and open the confirmation again.
func TestLiveRetryCancelByHeldEnterKey(t *testing.T) {
	a := startApp(t, appOptions{SampleData: true})
	failedExecutiveDelivery(t, a)
	ctx := newBrowser(t)
	signIn(t, ctx, a, "release_manager")

	// enter sends one Enter key event, as a keyboard does while the key is
	// held: a first keyDown, repeated keyDowns, then one keyUp.
	enter := func(kind input.DispatchKeyEventType, repeat bool) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, target *chromedp.Target) error {
			event := input.DispatchKeyEventParams{Type: kind, Key: "Enter", Code: "Enter", WindowsVirtualKeyCode: 13, AutoRepeat: &repeat}
			if kind == input.DispatchKeyEventTypeKeyDown {
				event.Text, event.UnmodifiedText = "\r", "\r"
			}
			_, err := cdp.Call(ctx, target, input.DispatchKeyEvent, event)
			return err
		})
	}
	err := chromedp.Do(ctx,
		chromedp.Navigate(a.BaseURL+"/console"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="prepare-live-retry"]`)),
		chromedp.Focus(chromedp.CSS(`[data-testid="prepare-live-retry"]`)),
		chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="retry-confirm-cancel"]`)),
		chromedp.Focus(chromedp.CSS(`[data-testid="retry-confirm-cancel"]`)),
		enter(input.DispatchKeyEventTypeKeyDown, false),
		// The focus moves after 300 ms while the key is still down.
		chromedp.Sleep(600*time.Millisecond),
		enter(input.DispatchKeyEventTypeKeyDown, true),
		enter(input.DispatchKeyEventTypeKeyDown, true),
		enter(input.DispatchKeyEventTypeKeyUp, false),
		chromedp.Sleep(1500*time.Millisecond),
	)
	if err != nil {
		t.Fatalf("prepare a live run and cancel it with a held Enter: %v", err)
	}
	open, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('[data-testid="retry-confirm"]') !== null`))
	if err != nil {
		t.Fatalf("look for the confirmation: %v", err)
	}
	if open {
		t.Error("confirmation is open again after a held Enter on Cancel, want it closed")
	}
	focused, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.getAttribute("data-testid") || document.activeElement.tagName`))
	if err != nil {
		t.Fatalf("read the focused element: %v", err)
	}
	if focused != "prepare-live-retry" {
		t.Errorf("focused element after a held Enter on Cancel = %q, want the Prepare live run button", focused)
	}
}

// TestPrepareLiveRetryProgressMessage presses "Prepare live run…" with the
// keyboard and reads the progress message that takes the focus while the
// confirmation loads. Preparing sends nothing, so the message a screen
// reader reads must not say that a run is under way.
func TestPrepareLiveRetryProgressMessage(t *testing.T) {
	a := startApp(t, appOptions{SampleData: true})
	failedExecutiveDelivery(t, a)
	ctx := newBrowser(t)
	signIn(t, ctx, a, "release_manager")

	// The listener runs after the one in app.js that moves the focus to
	// the progress message, so it records the focused message, and
	// whether the dry run's "Running…" message is shown beside it.
	record := `document.addEventListener("htmx:beforeSend", () => {
		window.progressMessages = (window.progressMessages || []).concat(document.activeElement.textContent.trim());
		window.runningShown = document.getElementById("retry-run-progress").getClientRects().length > 0;
	}); true`
	err := chromedp.Do(ctx,
		chromedp.Navigate(a.BaseURL+"/console"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="prepare-live-retry"]`)),
	)
	if err != nil {
		t.Fatalf("open the console: %v", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](record)); err != nil {
		t.Fatalf("record the progress messages: %v", err)
	}
	err = chromedp.Do(ctx,
		chromedp.Focus(chromedp.CSS(`[data-testid="prepare-live-retry"]`)),
		chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="retry-confirm"]`)),
	)
	if err != nil {
		t.Fatalf("prepare a live run with the keyboard: %v", err)
	}
	messages, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.progressMessages || []`))
	if err != nil {
		t.Fatalf("read the progress messages: %v", err)
	}
	if len(messages) == 0 {
		t.Fatal("no request started after Enter on Prepare live run, want one")
	}
	if messages[0] != "Preparing the confirmation…" {
		t.Errorf("focused progress message while preparing = %q, want %q", messages[0], "Preparing the confirmation…")
	}
	runningShown, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.runningShown === true`))
	if err != nil {
		t.Fatalf("read whether Running… was shown: %v", err)
	}
	if runningShown {
		t.Error("Running… shown while preparing the confirmation, want it hidden")
	}
}
