package auth

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPasswordHash(t *testing.T) {
	hash, err := HashPassword("a long enough password")
	if err != nil {
		t.Fatalf("HashPassword: %v", err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=65536,t=3,p=2$") {
		t.Errorf("hash = %q, want the argon2id PHC format", hash)
	}
	if strings.Contains(hash, "a long enough password") {
		t.Error("hash contains the password")
	}
	cases := []struct {
		name, hash, password string
		want                 bool
		wantErr              bool
	}{
		{"right password", hash, "a long enough password", true, false},
		{"wrong password", hash, "a long enough passwore", false, false},
		{"empty hash", "", "anything", false, false},
		{"other algorithm", "$2a$10$abcdefghijklmnopqrstuv", "x", false, true},
		{"bad salt", "$argon2id$v=19$m=65536,t=3,p=2$!!$AAAA", "x", false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := VerifyPassword(tc.hash, tc.password)
			if got != tc.want {
				t.Errorf("VerifyPassword = %t, want %t", got, tc.want)
			}
			if (err != nil) != tc.wantErr {
				t.Errorf("error = %v, want error %t", err, tc.wantErr)
			}
		})
	}
	other, _ := HashPassword("a long enough password")
	if other == hash {
		t.Error("two hashes of one password are equal, want different salts")
	}
}

func TestAPITokenAndCSRF(t *testing.T) {
	token, prefix, hash, err := newAPIToken()
	if err != nil {
		t.Fatalf("newAPIToken: %v", err)
	}
	if !strings.HasPrefix(token, "ecp_") || !strings.HasPrefix(token, prefix) || len(prefix) != displayPrefixLength {
		t.Errorf("token %q with prefix %q, want ecp_ and a %d-character prefix", token, prefix, displayPrefixLength)
	}
	if hash != hashSecret(token) || strings.Contains(hash, token) {
		t.Error("hash is not the SHA-256 of the token")
	}
	if CSRFToken("one") == CSRFToken("two") || CSRFToken("one") != CSRFToken("one") {
		t.Error("CSRF tokens are not derived per session secret")
	}
	if EqualTokens("", "") {
		t.Error("empty tokens compare equal, want never")
	}
}

func TestSessionKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "session.key")
	first, err := LoadOrCreateKeyFile(path)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatalf("stat: %v", err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("mode = %o, want 600", info.Mode().Perm())
	}
	second, err := LoadOrCreateKeyFile(path)
	if err != nil || second != first {
		t.Errorf("second load = %q (%v), want the stored key", second, err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatalf("chmod: %v", err)
	}
	if _, err := LoadOrCreateKeyFile(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("world-readable key file: error = %v, want a chmod hint", err)
	}
	pairs := SessionKeyPairs([]string{first, "another-secret-of-enough-length!"})
	if len(pairs) != 4 || len(pairs[0]) != 32 || len(pairs[1]) != 32 {
		t.Errorf("key pairs = %d keys, want 4 keys of 32 bytes", len(pairs))
	}
}

func TestRoleMap(t *testing.T) {
	roles, err := ParseRoleMap("ops=release_manager, leads=executive,admins=admin")
	if err != nil {
		t.Fatalf("ParseRoleMap: %v", err)
	}
	o := &OIDC{settings: OIDCSettings{RoleMap: roles}}
	cases := []struct {
		groups []string
		want   Role
	}{
		{[]string{"leads"}, RoleExecutive},
		{[]string{"leads", "ops"}, RoleReleaseManager},
		{[]string{"admins", "ops"}, RoleAdmin},
		{[]string{"unknown"}, ""},
		{nil, ""},
	}
	for _, tc := range cases {
		if got := o.mapRole(tc.groups); got != tc.want {
			t.Errorf("mapRole(%v) = %q, want %q", tc.groups, got, tc.want)
		}
	}
	for _, bad := range []string{"ops", "ops=root", "=admin"} {
		if _, err := ParseRoleMap(bad); err == nil {
			t.Errorf("ParseRoleMap(%q) accepted, want an error", bad)
		}
	}
}
