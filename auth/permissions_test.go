package auth

import (
	"slices"
	"testing"
)

// rolePermissionsWant is the README's role table written out by hand, so a
// change to rolePermissions that grants or drops a right fails here.
// Every role manages its own API tokens on /profile.
var rolePermissionsWant = map[Role][]Permission{
	RoleViewer:    {PermissionReadConsole, PermissionManageOwnTokens},
	RoleExecutive: {PermissionReadConsole, PermissionReadExecutive, PermissionManageOwnTokens},
	RoleAuditor:   {PermissionReadConsole, PermissionReadExecutive, PermissionExportAudit, PermissionManageOwnTokens},
	RolePlatformOwner: {
		PermissionReadConsole, PermissionReadExecutive, PermissionAcknowledge, PermissionManageOwnTokens,
	},
	RoleReleaseManager: {
		PermissionReadConsole, PermissionReadExecutive, PermissionAcknowledge, PermissionSendAlerts,
		PermissionPlanRetries, PermissionRunLiveRetries, PermissionIngestEvidence, PermissionManageOwnTokens,
	},
	RoleAdmin: {
		PermissionReadConsole, PermissionReadExecutive, PermissionAcknowledge, PermissionSendAlerts,
		PermissionPlanRetries, PermissionRunLiveRetries, PermissionExportAudit, PermissionIngestEvidence,
		PermissionManageUsers, PermissionManageOwnTokens,
	},
}

// grantedPermissions lists every permission that some role may be granted,
// as opposed to PermissionPublic and PermissionSignedIn.
var grantedPermissions = []Permission{
	PermissionReadConsole, PermissionReadExecutive, PermissionAcknowledge, PermissionSendAlerts,
	PermissionPlanRetries, PermissionRunLiveRetries, PermissionExportAudit, PermissionIngestEvidence,
	PermissionManageUsers, PermissionManageOwnTokens,
}

func TestRolePermissionTable(t *testing.T) {
	wantRoles := []Role{RoleViewer, RoleExecutive, RoleAuditor, RolePlatformOwner, RoleReleaseManager, RoleAdmin}
	if got := Roles(); !slices.Equal(got, wantRoles) {
		t.Fatalf("roles: got %v, want %v", got, wantRoles)
	}

	for _, role := range wantRoles {
		t.Run(string(role), func(t *testing.T) {
			for _, permission := range grantedPermissions {
				want := slices.Contains(rolePermissionsWant[role], permission)
				if got := role.Can(permission); got != want {
					t.Errorf("%s can %s: got %t, want %t", role, permission, got, want)
				}
			}
			if !role.Can(PermissionPublic) {
				t.Errorf("%s can %s: got false, want true", role, PermissionPublic)
			}
			if !role.Can(PermissionSignedIn) {
				t.Errorf("%s can %s: got false, want true", role, PermissionSignedIn)
			}
		})
	}
}

func TestUnknownRolePermissions(t *testing.T) {
	for _, role := range []Role{"", "root", "Admin"} {
		if role.Valid() {
			t.Errorf("role %q valid: got true, want false", role)
		}
		if !role.Can(PermissionPublic) {
			t.Errorf("role %q can %s: got false, want true", role, PermissionPublic)
		}
		if role.Can(PermissionSignedIn) {
			t.Errorf("role %q can %s: got true, want false", role, PermissionSignedIn)
		}
		for _, permission := range grantedPermissions {
			if role.Can(permission) {
				t.Errorf("role %q can %s: got true, want false", role, permission)
			}
		}
	}
}
