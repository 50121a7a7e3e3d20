package views

import (
	"context"
	"strings"
	"testing"
)

func TestDeliveryDetail(t *testing.T) {
	cases := []struct {
		name       string
		class      string
		statusCode int
		attempts   int
		want       string
	}{
		{"one failed attempt", "server_error", 503, 1, "server_error, HTTP 503, 1 attempt"},
		{"several attempts", "ok", 200, 3, "ok, HTTP 200, 3 attempts"},
		{"no HTTP response", "timeout", 0, 2, "timeout, 2 attempts"},
		{"still in flight", "", 0, 0, "0 attempts"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := DeliveryDetail("webhook", tc.class, tc.statusCode, tc.attempts); got != tc.want {
				t.Errorf("DeliveryDetail(webhook, %q, %d, %d) = %q, want %q", tc.class, tc.statusCode, tc.attempts, got, tc.want)
			}
		})
	}
}

func TestRecordsShown(t *testing.T) {
	cases := []struct {
		name   string
		total  int64
		offset int
		rows   int
		want   string
	}{
		{"empty", 0, 0, 0, "0 records"},
		{"one record", 1, 0, 1, "1 record, showing 1 to 1"},
		{"second page", 120, 50, 50, "120 records, showing 51 to 100"},
		{"offset past the end", 3, 10, 0, "3 records"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := RecordsShown(tc.total, tc.offset, tc.rows); got != tc.want {
				t.Errorf("RecordsShown(%d, %d, %d) = %q, want %q", tc.total, tc.offset, tc.rows, got, tc.want)
			}
		})
	}
}

func TestStatusLabelNamesProtocol(t *testing.T) {
	if got := DeliveryDetail("email", "ok", 250, 1); got != "ok, SMTP 250, 1 attempt" {
		t.Errorf("DeliveryDetail(email, ok, 250, 1) = %q, want ok, SMTP 250, 1 attempt", got)
	}
	if got := StatusLabel("email", 250); got != "SMTP 250" {
		t.Errorf("StatusLabel(email, 250) = %q, want SMTP 250", got)
	}
	if got := StatusLabel("webhook", 503); got != "HTTP 503" {
		t.Errorf("StatusLabel(webhook, 503) = %q, want HTTP 503", got)
	}
}

// An alert result names an e-mail destination's reply code as SMTP and a
// webhook's as HTTP.
func TestAlertResultStatusProtocol(t *testing.T) {
	result := AlertResultView{HealthID: "hlth_1", AlertLevel: "critical", Destinations: []AlertDestinationView{
		{Provider: "email", Kind: "email", Outcome: OutcomeSent, StatusCode: 250, Attempts: 1},
		{Provider: "webhook", Kind: "webhook", Outcome: OutcomeFailed, Class: "server_error", StatusCode: 503, Attempts: 1},
	}}
	var out strings.Builder
	if err := AlertResult(result).Render(context.Background(), &out); err != nil {
		t.Fatalf("render: %v", err)
	}
	for _, want := range []string{"SMTP 250", "HTTP 503"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("alert result: want %q in it", want)
		}
	}
	if strings.Contains(out.String(), "HTTP 250") {
		t.Error("alert result: got HTTP 250 for an e-mail destination, want SMTP 250")
	}
}

// An execution row names an e-mail reply code as SMTP.
func TestExecutionRowStatusProtocol(t *testing.T) {
	run := RetryRunView{RunID: "rwr_1", Mode: "live", Executions: []RetryExecutionView{
		{ExecutionID: "rex_1", Outcome: "delivered", Provider: "email", DeliveryID: "dlv_1", StatusCode: 250, Kind: "email"},
	}}
	var out strings.Builder
	if err := RetryRunPanel(run).Render(context.Background(), &out); err != nil {
		t.Fatalf("render: %v", err)
	}
	if !strings.Contains(out.String(), "(SMTP 250)") || strings.Contains(out.String(), "HTTP 250") {
		t.Errorf("execution row: want (SMTP 250) and no HTTP 250 in %s", out.String())
	}
}
