package connectors

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParseNames(t *testing.T) {
	cases := []struct {
		name      string
		values    []string
		wantNames []string
		wantAll   bool
		wantError string
	}{
		{"one string", []string{" Slack , teams,slack"}, []string{"slack", "teams"}, false, ""},
		{"list", []string{"slack", "TEAMS"}, []string{"slack", "teams"}, false, ""},
		{"blank value skipped", []string{"", "  "}, nil, false, ""},
		{"all alone", []string{" ALL "}, nil, true, ""},
		{"all twice", []string{"all", "all"}, nil, true, ""},
		{"all beside a name", []string{"all,slack"}, nil, false, `send "all" alone`},
		{"all in a list", []string{"slack", "all"}, nil, false, `send "all" alone`},
		{"empty name", []string{"slack,,teams"}, nil, false, "empty name"},
		{"trailing comma", []string{"slack,"}, nil, false, "empty name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			names, all, err := ParseNames(tc.values)

			if tc.wantError != "" {
				var nameErr *NameListError
				if !errors.As(err, &nameErr) {
					t.Fatalf("error = %v, want a *NameListError", err)
				}
				if !strings.Contains(nameErr.Message, tc.wantError) {
					t.Errorf("message %q does not contain %q", nameErr.Message, tc.wantError)
				}
				return
			}
			if err != nil {
				t.Fatalf("error = %v, want none", err)
			}
			if !slices.Equal(names, tc.wantNames) {
				t.Errorf("names = %v, want %v", names, tc.wantNames)
			}
			if all != tc.wantAll {
				t.Errorf("all = %t, want %t", all, tc.wantAll)
			}
		})
	}
}

func TestCheckReadyNamesEnabledOnly(t *testing.T) {
	statuses := []Status{
		{Name: "slack", Enabled: true, Ready: true},
		{Name: "off", Enabled: false, Problem: "connector is disabled in the configuration file"},
		{Name: "failing-webhook", Enabled: true, Problem: "environment variable LOCAL_FAILING_URL is empty"},
		{Name: "teams", Enabled: true, Problem: "environment variable TEAMS_URL is not set"},
	}

	err := CheckReady(statuses)

	var notReady *NotReadyError
	if !errors.As(err, &notReady) {
		t.Fatalf("error = %v, want a *NotReadyError", err)
	}
	message := notReady.Error()
	for _, want := range []string{`"failing-webhook" is not ready: environment variable LOCAL_FAILING_URL is empty`,
		`"teams" is not ready: environment variable TEAMS_URL is not set`, "Nothing was sent", "restart the server"} {
		if !strings.Contains(message, want) {
			t.Errorf("message %q does not contain %q", message, want)
		}
	}
	if strings.Contains(message, `"off"`) || strings.Contains(message, `"slack"`) {
		t.Errorf("message %q names a disabled or ready destination", message)
	}
	if err := CheckReady(statuses[:2]); err != nil {
		t.Errorf("ready and disabled only: error = %v, want nil", err)
	}
	// A request for "all" cannot leave a name out, so the fix names the
	// ready destinations to send to instead.
	if want := "send provider with only the destinations that are ready: slack"; !strings.Contains(message, want) {
		t.Errorf("message %q does not contain %q", message, want)
	}
	none := CheckReady(statuses[2:]).Error()
	if !strings.Contains(none, "none of the requested destinations can send until then") {
		t.Errorf("message without a ready destination: got %q, want it to say that nothing can be sent until the settings are fixed", none)
	}
	if strings.Contains(none, "other destinations") {
		t.Errorf("message without a ready destination: got %q, want no mention of other destinations", none)
	}
}
