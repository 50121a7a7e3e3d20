// Package auth holds users, roles and the permission table that decides
// every route.
package auth

// Role is a user's role.
type Role string

// Roles, from least to most privileged.
const (
	RoleViewer         Role = "viewer"
	RoleExecutive      Role = "executive"
	RoleAuditor        Role = "auditor"
	RolePlatformOwner  Role = "platform_owner"
	RoleReleaseManager Role = "release_manager"
	RoleAdmin          Role = "admin"
)

// Roles lists every role in order.
func Roles() []Role {
	return []Role{RoleViewer, RoleExecutive, RoleAuditor, RolePlatformOwner, RoleReleaseManager, RoleAdmin}
}

// Permission is the right a route requires.
type Permission string

// Permissions. PermissionPublic routes need no sign-in; PermissionSignedIn
// routes need any signed-in user with a known role.
const (
	PermissionPublic          Permission = "public"
	PermissionSignedIn        Permission = "signed_in"
	PermissionReadConsole     Permission = "console.read"
	PermissionReadExecutive   Permission = "executive_report.read"
	PermissionAcknowledge     Permission = "alert.acknowledge"
	PermissionSendAlerts      Permission = "alert.send"
	PermissionPlanRetries     Permission = "retry.plan"
	PermissionRunLiveRetries  Permission = "retry.run_live"
	PermissionExportAudit     Permission = "audit.export"
	PermissionIngestEvidence  Permission = "evidence.ingest"
	PermissionManageUsers     Permission = "users.manage"
	PermissionManageOwnTokens Permission = "profile.tokens"
)

// rolePermissions is the one table of who may do what.
var rolePermissions = map[Role][]Permission{
	RoleViewer:    {PermissionReadConsole, PermissionManageOwnTokens},
	RoleExecutive: {PermissionReadConsole, PermissionReadExecutive, PermissionManageOwnTokens},
	RoleAuditor:   {PermissionReadConsole, PermissionReadExecutive, PermissionExportAudit, PermissionManageOwnTokens},
	RolePlatformOwner: {PermissionReadConsole, PermissionReadExecutive, PermissionAcknowledge,
		PermissionManageOwnTokens},
	RoleReleaseManager: {PermissionReadConsole, PermissionReadExecutive, PermissionAcknowledge,
		PermissionSendAlerts, PermissionPlanRetries, PermissionRunLiveRetries, PermissionIngestEvidence,
		PermissionManageOwnTokens},
	RoleAdmin: {PermissionReadConsole, PermissionReadExecutive, PermissionAcknowledge, PermissionSendAlerts,
		PermissionPlanRetries, PermissionRunLiveRetries, PermissionExportAudit, PermissionIngestEvidence,
		PermissionManageUsers, PermissionManageOwnTokens},
}

// Can reports whether role grants permission.
func (r Role) Can(permission Permission) bool {
	if permission == PermissionPublic {
		return true
	}
	if permission == PermissionSignedIn {
		return r.Valid()
	}
	for _, granted := range rolePermissions[r] {
		if granted == permission {
			return true
		}
	}
	return false
}

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	_, ok := rolePermissions[r]
	return ok
}
