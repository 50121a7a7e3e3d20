package handlers

import (
	"fmt"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/releaseops/evidence-console/auth"
)

// roleNouns name each role with its article, as the blocked-form notes
// write them.
var roleNouns = map[auth.Role]string{
	auth.RoleViewer:         "a viewer",
	auth.RoleExecutive:      "an executive",
	auth.RoleAuditor:        "an auditor",
	auth.RolePlatformOwner:  "a platform owner",
	auth.RoleReleaseManager: "a release manager",
	auth.RoleAdmin:          "an administrator",
}

// permissionActions completes "may not …" for each permission a route can
// require, in the words of a 403 message.
var permissionActions = map[auth.Permission]string{
	auth.PermissionSignedIn:        "use this page",
	auth.PermissionReadConsole:     "read the console",
	auth.PermissionReadExecutive:   "read executive reports",
	auth.PermissionAcknowledge:     "acknowledge alerts",
	auth.PermissionSendAlerts:      "build health, send alerts, or schedule and deliver executive reports",
	auth.PermissionPlanRetries:     "plan or run delivery retries",
	auth.PermissionRunLiveRetries:  "run live delivery retries",
	auth.PermissionExportAudit:     "export evidence",
	auth.PermissionIngestEvidence:  "ingest evidence",
	auth.PermissionManageUsers:     "manage users",
	auth.PermissionManageOwnTokens: "manage API tokens",
}

// formBlockedReason returns why the signed-in user's role may not submit a
// form whose POST route requires permission, or "" when the role grants
// it. Pages show the form disabled with this note, and the route still
// rejects the POST with 403.
func formBlockedReason(c echo.Context, permission auth.Permission, action string) string {
	return blockedReason(auth.Role(pageContext(c).UserRole), permission, action)
}

// blockedReason returns a note such as "Your role (viewer) may not send
// alerts; a release manager or an administrator can.", or "" when role
// grants permission. action completes "may not …", and an empty role is
// left out of the note.
func blockedReason(role auth.Role, permission auth.Permission, action string) string {
	if role.Can(permission) {
		return ""
	}
	subject := "Your role"
	if role != "" {
		subject += " (" + string(role) + ")"
	}
	return fmt.Sprintf("%s may not %s; %s can.", subject, action, rolesGranting(permission))
}

// rolesGranting names the roles that grant permission, least privileged
// first, for example "a release manager or an administrator".
func rolesGranting(permission auth.Permission) string {
	var nouns []string
	for _, role := range auth.Roles() {
		if !role.Can(permission) {
			continue
		}
		noun, ok := roleNouns[role]
		if !ok {
			noun = "a " + strings.ReplaceAll(string(role), "_", " ")
		}
		nouns = append(nouns, noun)
	}
	switch len(nouns) {
	case 0:
		return "no role"
	case 1:
		return nouns[0]
	}
	return strings.Join(nouns[:len(nouns)-1], ", ") + " or " + nouns[len(nouns)-1]
}
