package handlers

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/releaseops/evidence-console/alerting"
	"github.com/releaseops/evidence-console/auth"
)

// formControlDisabled reports whether a browser treats the control as
// disabled: it has the disabled attribute or sits in a disabled fieldset.
func formControlDisabled(control *goquery.Selection) bool {
	if _, ok := control.Attr("disabled"); ok {
		return true
	}
	return control.ParentsFiltered("fieldset[disabled]").Length() > 0
}

// newFormAccessServer returns a server with every console section and one
// alert sent to two destinations, so the console lists two outstanding
// acknowledgements, each with its form.
func newFormAccessServer(t *testing.T) (*testServer, string) {
	t.Helper()
	s := newAPIServer(t)
	s.loadSample()
	rec := s.postJSON(alertsPath+"/deliver", `{"retries": 0}`)
	if rec.Code != http.StatusCreated {
		t.Fatalf("send the alert: status %d, want 201: %s", rec.Code, rec.Body.String())
	}
	var result alerting.DeliverResult
	if err := json.Unmarshal(rec.Body.Bytes(), &result); err != nil {
		t.Fatalf("decode the alert result: %v", err)
	}
	return s, result.Health.HealthID
}

const (
	managersCan      = "a release manager or an administrator can."
	acknowledgersCan = "a platform owner, a release manager or an administrator can."
	sendAlertButton  = "send-alert"
)

func TestConsoleFormsByRole(t *testing.T) {
	// buttons maps each console form's submit button to its blocked note.
	// The live run button has no note of its own, and its description is
	// the run form's note.
	buttons := map[string]string{
		"build-health":             "build-health-blocked",
		sendAlertButton:            "send-alert-blocked",
		"ack-submit":               "acknowledge-blocked",
		"executive-schedule":       "executive-schedule-blocked",
		"executive-deliver":        "executive-deliver-blocked",
		"plan-executive-retry":     "retry-plan-blocked",
		"run-executive-retry":      "retry-run-blocked",
		"prepare-live-retry":       "",
		"plan-alert-retry":         "alert-retry-plan-blocked",
		"run-alert-retry":          "alert-retry-run-blocked",
		"alert-prepare-live-retry": "",
	}
	cases := []struct {
		role auth.Role
		// disabled lists the buttons shown disabled, with the note of each
		// that has one; every other button must be enabled.
		disabled map[string]string
		// absent lists buttons not shown at all.
		absent []string
	}{
		{
			role: auth.RoleViewer,
			disabled: map[string]string{
				"build-health":             "Your role (viewer) may not build health snapshots; " + managersCan,
				sendAlertButton:            "Your role (viewer) may not send alerts; " + managersCan,
				"ack-submit":               "Your role (viewer) may not acknowledge alerts; " + acknowledgersCan,
				"plan-executive-retry":     "Your role (viewer) may not plan delivery retries; " + managersCan,
				"run-executive-retry":      "Your role (viewer) may not run delivery retries; " + managersCan,
				"prepare-live-retry":       "Your role (viewer) may not run delivery retries; " + managersCan,
				"plan-alert-retry":         "Your role (viewer) may not plan delivery retries; " + managersCan,
				"run-alert-retry":          "Your role (viewer) may not run delivery retries; " + managersCan,
				"alert-prepare-live-retry": "Your role (viewer) may not run delivery retries; " + managersCan,
			},
			// A viewer may not read executive reports, so the section shows
			// a note in place of its forms.
			absent: []string{"executive-schedule", "executive-deliver"},
		},
		{
			role: auth.RolePlatformOwner,
			disabled: map[string]string{
				"build-health":             "Your role (platform_owner) may not build health snapshots; " + managersCan,
				sendAlertButton:            "Your role (platform_owner) may not send alerts; " + managersCan,
				"executive-schedule":       "Your role (platform_owner) may not schedule executive reports; " + managersCan,
				"executive-deliver":        "Your role (platform_owner) may not deliver executive reports; " + managersCan,
				"plan-executive-retry":     "Your role (platform_owner) may not plan delivery retries; " + managersCan,
				"run-executive-retry":      "Your role (platform_owner) may not run delivery retries; " + managersCan,
				"prepare-live-retry":       "Your role (platform_owner) may not run delivery retries; " + managersCan,
				"plan-alert-retry":         "Your role (platform_owner) may not plan delivery retries; " + managersCan,
				"run-alert-retry":          "Your role (platform_owner) may not run delivery retries; " + managersCan,
				"alert-prepare-live-retry": "Your role (platform_owner) may not run delivery retries; " + managersCan,
			},
		},
		{role: auth.RoleReleaseManager, disabled: map[string]string{}},
		{role: auth.RoleAdmin, disabled: map[string]string{}},
	}

	s, _ := newFormAccessServer(t)
	for _, tc := range cases {
		t.Run(string(tc.role), func(t *testing.T) {
			s.actAs("console-"+strings.ReplaceAll(string(tc.role), "_", "-"), tc.role)
			rec := s.do(http.MethodGet, "/console", "", "", "Accept", "text/html")
			if rec.Code != http.StatusOK {
				t.Fatalf("console: status %d, want 200", rec.Code)
			}
			doc := document(t, rec)

			absent := map[string]bool{}
			for _, button := range tc.absent {
				absent[button] = true
				if got := byTestID(doc, button).Length(); got != 0 {
					t.Errorf("%s buttons: got %d, want none", button, got)
				}
			}
			for button, noteID := range buttons {
				if absent[button] {
					continue
				}
				controls := byTestID(doc, button)
				if controls.Length() == 0 {
					t.Errorf("%s: not shown, want it shown", button)
					continue
				}
				wantNote, wantDisabled := tc.disabled[button]
				controls.Each(func(i int, control *goquery.Selection) {
					if got := formControlDisabled(control); got != wantDisabled {
						t.Errorf("%s #%d disabled: got %t, want %t", button, i, got, wantDisabled)
					}
					if wantNote == "" {
						return
					}
					if got := describedText(t, doc, control); got != wantNote {
						t.Errorf("%s #%d description: got %q, want the note %q", button, i, got, wantNote)
					}
					if got := control.AttrOr("title", ""); got != "" {
						t.Errorf("%s #%d title: got %q, want none beside the shown note", button, i, got)
					}
				})
				if noteID == "" {
					continue
				}
				note := byTestID(doc, noteID)
				if wantNote == "" {
					if note.Length() != 0 {
						t.Errorf("%s: got %q, want no note", noteID, note.Text())
					}
					continue
				}
				if note.Length() != 1 {
					t.Errorf("%s: got %d notes, want 1", noteID, note.Length())
				}
				if got := strings.TrimSpace(note.Text()); got != wantNote {
					t.Errorf("%s: got %q, want %q", noteID, got, wantNote)
				}
			}
			if got := byTestID(doc, "live-blocked-reason").Length(); got != 0 {
				t.Errorf("live run notes: got %d, want none (the run form's note or no note)", got)
			}

			// Every role reads the same records.
			if got := byTestID(doc, "outstanding-row").Length(); got != 2 {
				t.Errorf("outstanding acknowledgement rows: got %d, want 2", got)
			}
			if got := byTestID(doc, "history-row").Length(); got == 0 {
				t.Error("alert history rows: got none, want the sent alert's rows")
			}
			if got := byTestID(doc, "finding").Length(); got == 0 {
				t.Error("health findings: got none, want the sample evidence's findings")
			}
		})
	}
}

func TestBlockedFormsStillRejectPosts(t *testing.T) {
	s, healthID := newFormAccessServer(t)
	ackPath := "/console/retry-health-alerts/" + url.PathEscape(healthID) + "/acknowledgements"
	cases := []struct {
		role auth.Role
		path string
		body string
	}{
		{auth.RoleViewer, "/console/retry-health", "expected_interval_minutes=30&stale_metadata_minutes=120"},
		{auth.RoleViewer, "/console/retry-health-alerts", "provider=all"},
		{auth.RoleViewer, ackPath, "provider=webhook&acknowledgement_state=acknowledged"},
		{auth.RoleViewer, "/console/executive-retry/run", "dry_run=true"},
		{auth.RolePlatformOwner, "/console/retry-health-alerts", "provider=all"},
		{auth.RolePlatformOwner, "/console/executive-report/schedule", "interval_minutes=1440"},
		{auth.RolePlatformOwner, "/console/executive-report/deliver", "run_id=latest&provider=webhook"},
		{auth.RolePlatformOwner, "/console/executive-retry/plan", "max_retry_attempts=3"},
		{auth.RolePlatformOwner, "/console/executive-retry/confirm", "max_retry_deliveries=1"},
		{auth.RoleViewer, "/console/alert-retry/run", "dry_run=true"},
		{auth.RolePlatformOwner, "/console/alert-retry/plan", "max_retry_attempts=3"},
		{auth.RolePlatformOwner, "/console/alert-retry/confirm", "max_retry_deliveries=1"},
	}
	for i, tc := range cases {
		s.actAs(fmt.Sprintf("poster-%d", i), tc.role)
		if rec := s.postForm(tc.path, tc.body); rec.Code != http.StatusForbidden {
			t.Errorf("%s posts %s: status %d, want 403", tc.role, tc.path, rec.Code)
		}
	}
}

func TestAcknowledgeFragmentKeepsSendDisabled(t *testing.T) {
	s, healthID := newFormAccessServer(t)
	s.actAs("fragment-owner", auth.RolePlatformOwner)

	// The platform owner's acknowledgement returns the alert section, which
	// must not offer the send form it may not submit.
	rec := s.postForm("/console/retry-health-alerts/"+url.PathEscape(healthID)+"/acknowledgements",
		"provider=webhook&acknowledgement_state=acknowledged&return_to=%2Fconsole%23retry-health-alerts", "HX-Request", "true")
	if rec.Code != http.StatusOK {
		t.Fatalf("acknowledge as a platform owner: status %d, want 200: %s", rec.Code, rec.Body.String())
	}
	doc := document(t, rec)
	if !formControlDisabled(byTestID(doc, sendAlertButton)) {
		t.Error("send button in the returned section: enabled, want disabled")
	}
	wantNote := "Your role (platform_owner) may not send alerts; " + managersCan
	if got := strings.TrimSpace(byTestID(doc, "send-alert-blocked").Text()); got != wantNote {
		t.Errorf("send note: got %q, want %q", got, wantNote)
	}
	remaining := byTestID(doc, "ack-submit")
	if remaining.Length() != 1 {
		t.Fatalf("acknowledge buttons left: got %d, want 1 (failing)", remaining.Length())
	}
	if formControlDisabled(remaining) {
		t.Error("acknowledge button for a platform owner: disabled, want enabled")
	}
	if got := byTestID(doc, "acknowledge-blocked").Length(); got != 0 {
		t.Errorf("acknowledge notes for a platform owner: got %d, want none", got)
	}
}

func TestAcknowledgementPageFormByRole(t *testing.T) {
	s, healthID := newFormAccessServer(t)
	path := "/alerts/" + url.PathEscape(healthID) + "/acknowledge/webhook"

	s.actAs("page-viewer", auth.RoleViewer)
	doc := document(t, s.do(http.MethodGet, path, "", "", "Accept", "text/html"))
	if !formControlDisabled(byTestID(doc, "ack-submit")) {
		t.Error("viewer's save button: enabled, want disabled")
	}
	for _, field := range []string{"ack-state", "ack-external-ref", "ack-notes"} {
		if !formControlDisabled(byTestID(doc, field)) {
			t.Errorf("viewer's %s field: enabled, want disabled", field)
		}
	}
	wantNote := "Your role (viewer) may not acknowledge alerts; " + acknowledgersCan
	if got := strings.TrimSpace(byTestID(doc, "acknowledge-blocked").Text()); got != wantNote {
		t.Errorf("viewer's note: got %q, want %q", got, wantNote)
	}
	if got := byTestID(doc, "ack-finding").Length(); got == 0 {
		t.Error("viewer's page: no findings, want the alert's findings")
	}

	s.actAs("page-owner", auth.RolePlatformOwner)
	doc = document(t, s.do(http.MethodGet, path, "", "", "Accept", "text/html"))
	if formControlDisabled(byTestID(doc, "ack-submit")) {
		t.Error("platform owner's save button: disabled, want enabled")
	}
	if got := byTestID(doc, "acknowledge-blocked").Length(); got != 0 {
		t.Errorf("platform owner's notes: got %d, want none", got)
	}
}

func TestBlockedReasonNamesGrantingRoles(t *testing.T) {
	for _, role := range auth.Roles() {
		if roleNouns[role] == "" {
			t.Errorf("role %q has no noun for the blocked-form notes", role)
		}
	}
	cases := []struct {
		role       auth.Role
		permission auth.Permission
		action     string
		want       string
	}{
		{auth.RoleViewer, auth.PermissionSendAlerts, "send alerts", "Your role (viewer) may not send alerts; " + managersCan},
		{auth.RoleAuditor, auth.PermissionManageUsers, "manage users", "Your role (auditor) may not manage users; an administrator can."},
		{auth.RoleExecutive, auth.PermissionExportAudit, "export evidence", "Your role (executive) may not export evidence; an auditor or an administrator can."},
		{"", auth.PermissionRunLiveRetries, "run live retries", "Your role may not run live retries; " + managersCan},
		{auth.RoleReleaseManager, auth.PermissionSendAlerts, "send alerts", ""},
	}
	for _, tc := range cases {
		if got := blockedReason(tc.role, tc.permission, tc.action); got != tc.want {
			t.Errorf("blockedReason(%q, %q): got %q, want %q", tc.role, tc.permission, got, tc.want)
		}
	}
	all := "a viewer, an executive, an auditor, a platform owner, a release manager or an administrator"
	if got := rolesGranting(auth.PermissionReadConsole); got != all {
		t.Errorf("roles granting console.read: got %q, want %q", got, all)
	}
}
