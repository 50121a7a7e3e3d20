package handlers

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/releaseops/evidence-console/auth"
	"github.com/releaseops/evidence-console/auth/authtest"
)

// routeParam matches a path parameter (":id") or a trailing wildcard.
var routeParam = regexp.MustCompile(`:[A-Za-z_]+|\*$`)

// stubServer registers a handler that returns 204 at every route of
// routePermissions, behind the real authentication middleware, so a 204
// proves the middleware let the request through.
func stubServer(t *testing.T, s *testServer) *echo.Echo {
	t.Helper()
	e := echo.New()
	e.HTTPErrorHandler = errorHandler(s.handler.Logger, nil, nil)
	for key := range routePermissions {
		method, path, _ := strings.Cut(key, " ")
		e.Add(method, path, func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
	}
	stub := *s.handler
	stub.setupAuth(e)
	return e
}

// concretePath fills a route pattern's parameters with sample values.
func concretePath(pattern string) string {
	return routeParam.ReplaceAllString(pattern, "x")
}

func TestRoutePermissionsEveryRouteAndRole(t *testing.T) {
	s := newTestServer(t)
	tokens := map[auth.Role]string{}
	for _, role := range auth.Roles() {
		_, token := authtest.CreateUser(t, s.db, "user-"+strings.ReplaceAll(string(role), "_", "-"), role)
		tokens[role] = token
	}
	e := stubServer(t, s)

	keys := make([]string, 0, len(routePermissions))
	for key := range routePermissions {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	if len(keys) < 10 {
		t.Fatalf("routePermissions has %d routes, want the whole application's routes", len(keys))
	}

	send := func(method, path, authorization string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(""))
		req.Header.Set(echo.HeaderAccept, "text/html")
		if authorization != "" {
			req.Header.Set(echo.HeaderAuthorization, authorization)
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		return rec
	}

	for _, key := range keys {
		permission := routePermissions[key]
		method, pattern, _ := strings.Cut(key, " ")
		path := concretePath(pattern)
		jsonPath := strings.HasPrefix(path, "/runtime/") || strings.HasPrefix(path, "/api/")

		t.Run(key+"/anonymous", func(t *testing.T) {
			rec := send(method, path, "")
			switch {
			case permission == auth.PermissionPublic:
				if rec.Code != http.StatusNoContent {
					t.Errorf("public route: status = %d, want 204", rec.Code)
				}
			case jsonPath:
				if rec.Code != http.StatusUnauthorized {
					t.Fatalf("status = %d, want 401", rec.Code)
				}
				assertErrorCode(t, rec, CodeUnauthenticated)
			default:
				if rec.Code != http.StatusSeeOther {
					t.Fatalf("status = %d, want 303 to the sign-in page", rec.Code)
				}
				if location := rec.Header().Get(echo.HeaderLocation); !strings.HasPrefix(location, "/sign-in?next=") {
					t.Errorf("location = %q, want /sign-in?next=…", location)
				}
			}
		})

		for _, role := range auth.Roles() {
			t.Run(key+"/"+string(role), func(t *testing.T) {
				rec := send(method, path, "Bearer "+tokens[role])
				if role.Can(permission) {
					if rec.Code != http.StatusNoContent {
						t.Errorf("%s may %s: status = %d, want 204; body: %s", role, permission, rec.Code, rec.Body.String())
					}
					return
				}
				if rec.Code != http.StatusForbidden {
					t.Fatalf("%s may not %s: status = %d, want 403", role, permission, rec.Code)
				}
				// The message states in words what the role may not do. Only
				// JSON clients get the permission id as well.
				want := "may not " + permissionActions[permission]
				if jsonPath {
					want += " (permission " + string(permission) + ")"
				}
				if permissionActions[permission] == "" || !strings.Contains(rec.Body.String(), want) {
					t.Errorf("403 message for %s: got %s, want it to contain %q", permission, rec.Body.String(), want)
				}
				if !jsonPath && strings.Contains(rec.Body.String(), "(permission ") {
					t.Errorf("403 page for %s: got %s, want no permission id", permission, rec.Body.String())
				}
				if jsonPath {
					assertErrorCode(t, rec, CodeForbidden)
				} else if byTestID(document(t, rec), "error-page").Length() != 1 {
					t.Errorf("403 for a browser has no error page: %s", rec.Body.String())
				}
			})
		}
	}
}

func TestRoutePermissionsTable(t *testing.T) {
	newTestServer(t)
	cases := []struct {
		permission auth.Permission
		allowed    []auth.Role
	}{
		{auth.PermissionReadConsole, auth.Roles()},
		{auth.PermissionReadExecutive, []auth.Role{auth.RoleExecutive, auth.RoleAuditor, auth.RolePlatformOwner, auth.RoleReleaseManager, auth.RoleAdmin}},
		{auth.PermissionAcknowledge, []auth.Role{auth.RolePlatformOwner, auth.RoleReleaseManager, auth.RoleAdmin}},
		{auth.PermissionSendAlerts, []auth.Role{auth.RoleReleaseManager, auth.RoleAdmin}},
		{auth.PermissionPlanRetries, []auth.Role{auth.RoleReleaseManager, auth.RoleAdmin}},
		{auth.PermissionRunLiveRetries, []auth.Role{auth.RoleReleaseManager, auth.RoleAdmin}},
		{auth.PermissionExportAudit, []auth.Role{auth.RoleAuditor, auth.RoleAdmin}},
		{auth.PermissionIngestEvidence, []auth.Role{auth.RoleReleaseManager, auth.RoleAdmin}},
		{auth.PermissionManageUsers, []auth.Role{auth.RoleAdmin}},
	}
	for _, tc := range cases {
		allowed := map[auth.Role]bool{}
		for _, role := range tc.allowed {
			allowed[role] = true
		}
		for _, role := range auth.Roles() {
			if got := role.Can(tc.permission); got != allowed[role] {
				t.Errorf("%s can %s = %t, want %t", role, tc.permission, got, allowed[role])
			}
		}
	}
	if auth.Role("root").Can(auth.PermissionReadConsole) {
		t.Error("an unknown role can read the console, want denied")
	}
	if auth.Role("root").Can(auth.PermissionSignedIn) {
		t.Error("an unknown role counts as signed in, want denied")
	}
}

func TestRouteWithoutPermissionDenied(t *testing.T) {
	s := newTestServer(t)
	s.e.GET("/unlisted", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })

	rec := s.do(http.MethodGet, "/unlisted", "", "", echo.HeaderAccept, "application/json")
	if rec.Code != http.StatusForbidden {
		t.Fatalf("route registered without a permission: status = %d, want 403", rec.Code)
	}
	assertErrorCode(t, rec, CodeForbidden)

	rec = s.do(http.MethodGet, "/no-such-page", "", "", echo.HeaderAccept, "application/json")
	if rec.Code != http.StatusNotFound {
		t.Errorf("unknown address: status = %d, want 404", rec.Code)
	}
}

func TestAnonymousJSONAndHTMX(t *testing.T) {
	s := newTestServer(t)
	s.anonymous()

	rec := s.do(http.MethodGet, "/console", "", "", echo.HeaderAccept, "application/json")
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("JSON client: status = %d, want 401", rec.Code)
	}
	assertErrorCode(t, rec, CodeUnauthenticated)

	rec = s.do(http.MethodGet, "/console?health_id=x", "", "", "HX-Request", "true")
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("htmx: status = %d, want 401", rec.Code)
	}
	if got, want := rec.Header().Get("HX-Redirect"), "/sign-in?next=%2Fconsole%3Fhealth_id%3Dx"; got != want {
		t.Errorf("HX-Redirect = %q, want %q", got, want)
	}

	rec = s.do(http.MethodGet, "/console", "", "", echo.HeaderAuthorization, "Basic dXNlcjpwYXNz")
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("Basic credentials: status = %d, want 401", rec.Code)
	}
}

func TestActorIsVerifiedUser(t *testing.T) {
	s := newTestServer(t)
	s.actAs("ops-lead", auth.RoleReleaseManager)

	// A body field named actor is not a field of the form, so it cannot
	// change who acted.
	rec := s.postForm("/console/retry-health", "expected_interval_minutes=30&stale_metadata_minutes=120&actor=mallory",
		echo.HeaderAccept, "application/json")
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("build with an actor field: status = %d, want 400; body: %s", rec.Code, rec.Body.String())
	}
	if field := errorOf(t, rec.Body.String()).Field; field != "actor" {
		t.Errorf("error field = %q, want actor", field)
	}

	rec = s.postForm("/console/retry-health", "expected_interval_minutes=30&stale_metadata_minutes=120",
		echo.HeaderAccept, "application/json")
	if rec.Code != http.StatusCreated {
		t.Fatalf("build retry health: status = %d, want 201; body: %s", rec.Code, rec.Body.String())
	}
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if got := body["actor"]; got != "ops-lead" {
		t.Errorf("actor = %v, want ops-lead (the token's user)", got)
	}
}

// assertErrorCode checks a JSON error response's code.
func assertErrorCode(t *testing.T, rec *httptest.ResponseRecorder, want string) {
	t.Helper()
	var body struct {
		Error APIError `json:"error"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("response is not a JSON error: %v; body: %s", err, rec.Body.String())
	}
	if body.Error.Code != want {
		t.Errorf("error code = %q, want %q (message %q)", body.Error.Code, want, body.Error.Message)
	}
}

func TestEveryRouteHasPermission(t *testing.T) {
	s := newTestServer(t)
	for _, r := range s.e.Routes() {
		if _, ok := routePermissions[r.Method+" "+r.Path]; !ok {
			t.Errorf("route %s %s was registered without Handler.route, so every request to it is denied", r.Method, r.Path)
		}
	}
}

// TestRoutePermissionsMatchTable checks each route's permission against a
// table written out here, so a route registered with a weaker permission
// fails even though the middleware applies the table it is given.
func TestRoutePermissionsMatchTable(t *testing.T) {
	newTestServer(t)
	const rt = "/runtime/go-pilot/rollback-drill-notifications"
	const ad = rt + "/acknowledgements/audit-delivery"
	want := map[string]auth.Permission{
		"GET /": auth.PermissionReadConsole,
		"GET /alerts/:health_id/acknowledge/:provider":     auth.PermissionReadConsole,
		"GET /audit/:kind/:id":                             auth.PermissionReadConsole,
		"GET /connectors":                                  auth.PermissionReadConsole,
		"GET /console":                                     auth.PermissionReadConsole,
		"GET /console/dashboard":                           auth.PermissionReadConsole,
		"GET /console/executive-report":                    auth.PermissionReadExecutive,
		"GET /console/executive-retry/health":              auth.PermissionReadConsole,
		"GET /console/alert-retry/health":                  auth.PermissionReadConsole,
		"GET /executive/report":                            auth.PermissionReadExecutive,
		"GET /executive/reports/:report_id":                auth.PermissionReadExecutive,
		"GET /executive/runs":                              auth.PermissionReadExecutive,
		"GET /healthz":                                     auth.PermissionPublic,
		"GET /history":                                     auth.PermissionReadConsole,
		"GET /history/export":                              auth.PermissionExportAudit,
		"GET /metrics":                                     auth.PermissionPublic,
		"GET /openapi.json":                                auth.PermissionPublic,
		"GET /profile":                                     auth.PermissionManageOwnTokens,
		"GET /readyz":                                      auth.PermissionPublic,
		"GET /retries/runs":                                auth.PermissionReadConsole,
		"GET /retries/runs/:run_id":                        auth.PermissionReadConsole,
		"GET /retries/plans/:plan_id":                      auth.PermissionReadConsole,
		"GET " + rt + "":                                   auth.PermissionReadConsole,
		"GET " + ad + "/connectors":                        auth.PermissionReadConsole,
		"GET " + ad + "/recovery-escalations/retry-health": auth.PermissionReadConsole,
		"GET " + ad + "/recovery-escalations/retry-health-alert-dashboard":                     auth.PermissionReadConsole,
		"GET " + ad + "/recovery-escalations/retry-health-alerts":                              auth.PermissionReadConsole,
		"GET " + ad + "/recovery-escalations/retry-health-alerts/retry-health":                 auth.PermissionReadConsole,
		"GET " + ad + "/recovery-escalations/retry-health-alerts/retry-worker-runs":            auth.PermissionReadConsole,
		"GET " + ad + "/recovery-escalations/retry-health-alerts/retry-worker-runs/:run_id":    auth.PermissionReadConsole,
		"GET " + ad + "/recovery-executive-report":                                             auth.PermissionReadExecutive,
		"GET " + ad + "/recovery-executive-report/delivery-retry-health":                       auth.PermissionReadConsole,
		"GET " + ad + "/recovery-executive-report/delivery-retry-plans/:plan_id":               auth.PermissionReadConsole,
		"GET " + ad + "/recovery-executive-report/delivery-retry-worker-runs":                  auth.PermissionReadConsole,
		"GET " + ad + "/recovery-executive-report/delivery-retry-worker-runs/:run_id":          auth.PermissionReadConsole,
		"GET " + ad + "/recovery-executive-report/schedule-runs":                               auth.PermissionReadExecutive,
		"GET " + rt + "/audit/:kind/:id":                                                       auth.PermissionReadConsole,
		"GET " + rt + "/audit/export":                                                          auth.PermissionExportAudit,
		"GET " + rt + "/dashboard":                                                             auth.PermissionReadConsole,
		"GET /setup":                                                                           auth.PermissionPublic,
		"GET /sign-in":                                                                         auth.PermissionPublic,
		"GET /sign-in/oidc":                                                                    auth.PermissionPublic,
		"GET /sign-in/oidc/callback":                                                           auth.PermissionPublic,
		"GET /static*":                                                                         auth.PermissionPublic,
		"GET /users":                                                                           auth.PermissionManageUsers,
		"POST /console/executive-report/deliver":                                               auth.PermissionSendAlerts,
		"POST /console/executive-report/schedule":                                              auth.PermissionSendAlerts,
		"POST /console/executive-retry/confirm":                                                auth.PermissionPlanRetries,
		"POST /console/executive-retry/plan":                                                   auth.PermissionPlanRetries,
		"POST /console/executive-retry/run":                                                    auth.PermissionPlanRetries,
		"POST /console/alert-retry/confirm":                                                    auth.PermissionPlanRetries,
		"POST /console/alert-retry/plan":                                                       auth.PermissionPlanRetries,
		"POST /console/alert-retry/run":                                                        auth.PermissionPlanRetries,
		"POST /console/retry-health":                                                           auth.PermissionSendAlerts,
		"POST /console/retry-health-alerts":                                                    auth.PermissionSendAlerts,
		"POST /console/retry-health-alerts/:health_id/acknowledgements":                        auth.PermissionAcknowledge,
		"POST /profile/tokens":                                                                 auth.PermissionManageOwnTokens,
		"POST /profile/tokens/:id/revoke":                                                      auth.PermissionManageOwnTokens,
		"POST " + ad + "/recovery-escalations/retry-health-alerts/:health_id/acknowledgements": auth.PermissionAcknowledge,
		"POST " + ad + "/recovery-escalations/retry-health-alerts/deliver":                     auth.PermissionSendAlerts,
		"POST " + ad + "/recovery-escalations/retry-health-alerts/retry-plan":                  auth.PermissionPlanRetries,
		"POST " + ad + "/recovery-escalations/retry-health-alerts/retry-worker-run":            auth.PermissionPlanRetries,
		"POST " + ad + "/recovery-executive-report/delivery-retry-plan":                        auth.PermissionPlanRetries,
		"POST " + ad + "/recovery-executive-report/delivery-retry-worker-run":                  auth.PermissionPlanRetries,
		"POST " + ad + "/recovery-executive-report/schedule-run":                               auth.PermissionSendAlerts,
		"POST " + ad + "/recovery-executive-report/schedule-runs/:run_id/deliver":              auth.PermissionSendAlerts,
		"POST " + rt + "/evidence":                                                             auth.PermissionIngestEvidence,
		"POST /setup":                                                                          auth.PermissionPublic,
		"POST /sign-in":                                                                        auth.PermissionPublic,
		"POST /sign-out":                                                                       auth.PermissionSignedIn,
		"POST /users":                                                                          auth.PermissionManageUsers,
		"POST /users/:id/disable":                                                              auth.PermissionManageUsers,
		"POST /users/:id/enable":                                                               auth.PermissionManageUsers,
		"POST /users/:id/role":                                                                 auth.PermissionManageUsers,
		"POST /users/:id/tokens/:token_id/revoke":                                              auth.PermissionManageUsers,
	}

	for key, permission := range want {
		got, ok := routePermissions[key]
		if !ok {
			t.Errorf("%s: route not registered", key)
			continue
		}
		if got != permission {
			t.Errorf("%s: permission: got %s, want %s", key, got, permission)
		}
	}
	for key := range routePermissions {
		if _, ok := want[key]; !ok {
			t.Errorf("%s: registered but missing from this table; add it with the permission it needs", key)
		}
	}
}
