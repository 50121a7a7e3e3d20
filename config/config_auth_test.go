package config

import (
	"strings"
	"testing"
)

func TestLoadSessionAndSingleSignOn(t *testing.T) {
	key := strings.Repeat("k", 32)
	cfg, _, err := load(nil, map[string]string{
		"SESSION_KEYS": key + ", " + strings.Repeat("o", 40), "OIDC_ISSUER": "https://id.example.test",
		"OIDC_CLIENT_ID": "console", "OIDC_CLIENT_SECRET_ENV": "OIDC_SECRET", "OIDC_ROLE_MAP": "ops=admin",
	})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if len(cfg.SessionKeys) != 2 || cfg.SessionKeys[0] != key {
		t.Errorf("SessionKeys = %q, want the two keys in order", cfg.SessionKeys)
	}
	if !cfg.OIDC.Enabled() || cfg.OIDC.GroupsClaim != "groups" {
		t.Errorf("OIDC = %+v, want enabled with the groups claim", cfg.OIDC)
	}
	if got := cfg.SessionKeyPath(); got != SessionKeyFile {
		t.Errorf("SessionKeyPath = %q, want %q for the default database", got, SessionKeyFile)
	}
	cfg.DatabaseURL = "/var/lib/console/console.db"
	if got := cfg.SessionKeyPath(); got != "/var/lib/console/session.key" {
		t.Errorf("SessionKeyPath = %q, want session.key beside the SQLite file", got)
	}
}

func TestLoadRejectsAuthSettings(t *testing.T) {
	oidc := map[string]string{
		"OIDC_ISSUER": "https://id.example.test", "OIDC_CLIENT_ID": "console",
		"OIDC_CLIENT_SECRET_FILE": "/run/secrets/oidc", "OIDC_ROLE_MAP": "ops=admin",
	}
	with := func(changes map[string]string) map[string]string {
		env := map[string]string{}
		for k, v := range oidc {
			env[k] = v
		}
		for k, v := range changes {
			env[k] = v
		}
		return env
	}
	cases := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"short session key", map[string]string{"SESSION_KEYS": "short"}, "SESSION_KEYS"},
		{"secure flag not boolean", map[string]string{"SESSION_COOKIE_SECURE": "yes please"}, "SESSION_COOKIE_SECURE"},
		{"plain http issuer", with(map[string]string{"OIDC_ISSUER": "http://id.example.test"}), "OIDC_ISSUER"},
		{"no client id", with(map[string]string{"OIDC_CLIENT_ID": ""}), "OIDC_CLIENT_ID"},
		{"two secrets", with(map[string]string{"OIDC_CLIENT_SECRET_ENV": "X"}), "OIDC_CLIENT_SECRET"},
		{"no role map", with(map[string]string{"OIDC_ROLE_MAP": ""}), "OIDC_ROLE_MAP"},
		{"role map of commas only", with(map[string]string{"OIDC_ROLE_MAP": " , "}), "OIDC_ROLE_MAP"},
		{"role map without pairs, sign-on off", map[string]string{"OIDC_ROLE_MAP": "bad"}, "OIDC_ROLE_MAP"},
		{"role map with unknown role, sign-on off", map[string]string{"OIDC_ROLE_MAP": "ops=root"}, "OIDC_ROLE_MAP"},
		{"role map without issuer", map[string]string{"OIDC_ROLE_MAP": "ops=admin"}, "OIDC_ISSUER is empty"},
		{"client id without issuer", map[string]string{"OIDC_CLIENT_ID": "console"}, "OIDC_CLIENT_ID: set, but OIDC_ISSUER is empty"},
		{"secret file without issuer", map[string]string{"OIDC_CLIENT_SECRET_FILE": "/run/secrets/oidc"}, "OIDC_CLIENT_SECRET_FILE"},
		{"secret variable without issuer", map[string]string{"OIDC_CLIENT_SECRET_ENV": "OIDC_SECRET"}, "OIDC_CLIENT_SECRET_ENV"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := load(nil, tc.env)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want one naming %s", err, tc.want)
			}
		})
	}
	if _, _, err := load(nil, with(map[string]string{"OIDC_ISSUER": "http://127.0.0.1:9000"})); err != nil {
		t.Errorf("http issuer on loopback: %v, want accepted", err)
	}
}
