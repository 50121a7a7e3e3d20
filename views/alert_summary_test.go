package views

import "testing"

func TestAlertResultSummary(t *testing.T) {
	tests := []struct {
		name     string
		outcomes []string
		want     string
	}{
		{"nothing selected", nil, "Alert not sent: no destination was selected."},
		{"one sent", []string{OutcomeSent}, "Alert delivery to 1 destination: 1 sent."},
		{
			"every outcome",
			[]string{OutcomeFailed, OutcomeSent, OutcomeInFlight, OutcomeSent, OutcomeSuppressed},
			"Alert delivery to 5 destinations: 2 sent, 1 failed, 1 suppressed, 1 in flight.",
		},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			var v AlertResultView
			for _, outcome := range test.outcomes {
				v.Destinations = append(v.Destinations, AlertDestinationView{Outcome: outcome})
			}
			if got := AlertResultSummary(v); got != test.want {
				t.Errorf("AlertResultSummary: got %q, want %q", got, test.want)
			}
		})
	}
}

func TestRetryPlanEmptyText(t *testing.T) {
	none := &RetryPlanView{}
	if got := none.EmptyText(); got != "No failed deliveries are open." {
		t.Errorf("plan of no open group: got %q, want that none is open", got)
	}
	waiting := &RetryPlanView{WaitCount: 1}
	if got := waiting.EmptyText(); got == none.EmptyText() {
		t.Errorf("worker run plan counting a waiting group: got %q, want it to say the decisions were not stored", got)
	}
}
