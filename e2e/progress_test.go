package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// progressFocus is where the focus is while a request runs: the id of the
// focused element and whether that element lies inside the viewport.
type progressFocus struct {
	ID       string `json:"id"`
	OnScreen bool   `json:"onscreen"`
}

// readProgressFocus returns the focused element's id and whether it is
// fully inside the viewport.
func readProgressFocus(t *testing.T, ctx context.Context) progressFocus {
	t.Helper()
	focus, err := chromedp.Run(ctx, chromedp.Evaluate[progressFocus](`(() => {
		const active = document.activeElement;
		const box = active.getBoundingClientRect();
		return {
			id: active === document.body ? "body" : active.id,
			onscreen: box.height > 0 && box.top >= 0 && box.bottom <= window.innerHeight,
		};
	})()`))
	if err != nil {
		t.Fatalf("read the focused element: %v", err)
	}
	return focus
}

// checkProgressFocus checks twice, 1.5 seconds apart, that the progress
// message progressID has the focus and is on screen while its request runs.
func checkProgressFocus(t *testing.T, ctx context.Context, action, progressID string) {
	t.Helper()
	for _, wait := range []time.Duration{0, 1500 * time.Millisecond} {
		time.Sleep(wait)
		focus := readProgressFocus(t, ctx)
		if focus.ID != progressID {
			t.Errorf("%s, %v after the start: focus on %q, want the progress message %s", action, wait, focus.ID, progressID)
		}
		if !focus.OnScreen {
			t.Errorf("%s, %v after the start: focused element is outside the %dx%d viewport", action, wait, phoneWidth, phoneHeight)
		}
	}
}

// TestSlowSubmitFocusesProgress sends an alert and runs a live retry with
// the keyboard at a phone's size, to a destination that never responds.
// While each request runs, its disabled button cannot hold the focus, so
// the progress message must hold it, on screen, until the result takes it.
func TestSlowSubmitFocusesProgress(t *testing.T) {
	a := startApp(t, appOptions{
		SampleData:      true,
		ConnectorConfig: "connectors:\n  webhook:\n    kind: webhook\n    url_env: E2E_SLOW_URL\n",
		Env:             map[string]string{"E2E_SLOW_URL": "%s/hang/webhook"},
	})
	failedExecutiveDelivery(t, a)
	ctx := newBrowser(t)
	signIn(t, ctx, a, "release_manager")
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(phoneWidth, phoneHeight)); err != nil {
		t.Fatalf("set a phone viewport: %v", err)
	}

	// Each request sends one attempt of 3 seconds, so the waits below
	// share a 20-second limit, and a request that never starts fails the
	// test well before the browser's 90 seconds.
	waitCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()

	sendForm := `[data-testid="send-alert-form"] `
	err := chromedp.Do(waitCtx,
		chromedp.Navigate(a.BaseURL+"/console"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="send-alert"]`)),
		chromedp.SetValue(chromedp.CSS(sendForm+`[name="retries"]`), "0"),
		chromedp.SetValue(chromedp.CSS(sendForm+`[name="timeout_seconds"]`), "3"),
		chromedp.Focus(chromedp.CSS(`[data-testid="send-alert"]`)),
		chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.CSS(`#send-progress`)),
	)
	if err != nil {
		t.Fatalf("start a slow alert send with the keyboard: %v", err)
	}
	checkProgressFocus(t, ctx, "alert send", "send-progress")
	if err := chromedp.Do(waitCtx, chromedp.WaitVisible(chromedp.CSS(`[data-testid="alert-result"]`))); err != nil {
		t.Fatalf("wait for the send's result: %v", err)
	}
	inResult, err := chromedp.Run(ctx, chromedp.Evaluate[bool](
		`document.activeElement.closest('[data-testid="alert-result"]') !== null`))
	if err != nil {
		t.Fatalf("read the focused element after the send: %v", err)
	}
	if !inResult {
		t.Errorf("focus after the send: %q, want it inside the alert result", readProgressFocus(t, ctx).ID)
	}

	runForm := `[data-testid="retry-run-form"] `
	err = chromedp.Do(waitCtx,
		chromedp.SetValue(chromedp.CSS(runForm+`[name="retries"]`), "0"),
		chromedp.SetValue(chromedp.CSS(runForm+`[name="timeout_seconds"]`), "3"),
		chromedp.Click(chromedp.CSS(`[data-testid="prepare-live-retry"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="retry-confirm-checkbox"]`)),
		chromedp.Focus(chromedp.CSS(`[data-testid="retry-confirm-checkbox"]`)),
		chromedp.KeyEvent(" "),
		chromedp.KeyEvent("\t"),
	)
	if err != nil {
		t.Fatalf("prepare a live run and tick its confirmation: %v", err)
	}
	focused, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.getAttribute("data-testid") || ""`))
	if err != nil {
		t.Fatalf("read the focused element: %v", err)
	}
	if focused != "run-live-retry" {
		t.Fatalf("focus after Tab from the confirmation box: %q, want the Run live retry button", focused)
	}
	ticked, err := chromedp.Run(ctx, chromedp.Evaluate[bool](
		`document.querySelector('[data-testid="retry-confirm-checkbox"]').checked`))
	if err != nil {
		t.Fatalf("read the confirmation box: %v", err)
	}
	if !ticked {
		t.Fatal("confirmation box after Space: not ticked, want ticked")
	}
	err = chromedp.Do(waitCtx,
		chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.CSS(`#retry-live-progress`)),
	)
	if err != nil {
		t.Fatalf("start the live run with the keyboard: %v", err)
	}
	checkProgressFocus(t, ctx, "live run", "retry-live-progress")
	if err := chromedp.Do(waitCtx, chromedp.WaitVisible(chromedp.CSS(`[data-testid="retry-run"][data-mode="live"]`))); err != nil {
		t.Fatalf("wait for the live run's result: %v", err)
	}
	inRun, err := chromedp.Run(ctx, chromedp.Evaluate[bool](
		`document.activeElement.closest('[data-testid="retry-run"]') !== null`))
	if err != nil {
		t.Fatalf("read the focused element after the live run: %v", err)
	}
	if !inRun {
		t.Errorf("focus after the live run: %q, want it inside the run's result", readProgressFocus(t, ctx).ID)
	}
}
