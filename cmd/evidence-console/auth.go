package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/releaseops/evidence-console/auth"
	"github.com/releaseops/evidence-console/handlers"
	"github.com/releaseops/evidence-console/models"
)

// authConfig builds sign-in for the server: the session keys (configured or
// generated and kept in a file), single sign-on when configured, and a
// one-time setup link, printed to the log, while no user exists.
func (a *app) authConfig(ctx context.Context, db *gorm.DB, now func() time.Time) (handlers.AuthConfig, error) {
	service := &auth.Service{DB: db, Now: now, Logger: a.logger, Secrets: a.registry.Redactor()}
	cfg := handlers.AuthConfig{Service: service, SecureCookies: a.cfg.SessionCookieSecure, Setup: &auth.SetupToken{}}

	secrets := a.cfg.SessionKeys
	if len(secrets) == 0 {
		if models.DialectOf(db) == models.DialectPostgres {
			a.logger.Warn("SESSION_KEYS is empty: sessions work only on this instance; set the same SESSION_KEYS on every instance that shares the database")
		}
		secret, err := auth.LoadOrCreateKeyFile(a.cfg.SessionKeyPath())
		if err != nil {
			return cfg, err
		}
		secrets = []string{secret}
	}
	cfg.SessionKeys = auth.SessionKeyPairs(secrets)
	// Servers that share a database share SESSION_KEYS, so they also share
	// the key of the sign-in limits' hashes, and with it their counts.
	service.LimitKeySecret = []byte("sign-in-limits:" + secrets[0])

	if a.cfg.OIDC.Enabled() {
		provider, err := a.oidcProvider(ctx)
		if err != nil {
			return cfg, err
		}
		cfg.OIDC = provider
	}

	count, err := service.CountUsers(ctx)
	if err != nil {
		return cfg, err
	}
	if count == 0 {
		token, err := cfg.Setup.Issue(now())
		if err != nil {
			return cfg, err
		}
		// NOTE: the link carries a one-time secret on purpose: it is the
		// only way in when no user exists. It works once, for one hour,
		// and only from a loopback client.
		a.logger.Warn("no user exists yet: open this one-time link on this machine within an hour to create the first admin, or run `evidence-console user create --username NAME --role admin`",
			"setup_link", a.cfg.PublicURL+"/setup?token="+token)
	}
	return cfg, nil
}

// oidcProvider reads the client secret and discovers the provider.
func (a *app) oidcProvider(ctx context.Context) (*auth.OIDC, error) {
	o := a.cfg.OIDC
	roleMap, err := auth.ParseRoleMap(o.RoleMap)
	if err != nil {
		return nil, usageError{message: "OIDC_ROLE_MAP: " + err.Error()}
	}
	secret := ""
	if o.ClientSecretFile != "" {
		content, err := os.ReadFile(o.ClientSecretFile)
		if err != nil {
			return nil, fmt.Errorf("OIDC_CLIENT_SECRET_FILE: unable to read %s: %w", o.ClientSecretFile, err)
		}
		secret = strings.TrimSpace(string(content))
	} else {
		secret = os.Getenv(o.ClientSecretEnv)
	}
	if secret == "" {
		return nil, usageError{message: "the OpenID Connect client secret is empty; check OIDC_CLIENT_SECRET_FILE or OIDC_CLIENT_SECRET_ENV"}
	}
	discoveryCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	provider, err := auth.NewOIDC(discoveryCtx, auth.OIDCSettings{
		Issuer: o.Issuer, ClientID: o.ClientID, ClientSecret: secret, RedirectURL: a.cfg.PublicURL + "/sign-in/oidc/callback",
		GroupsClaim: o.GroupsClaim, RoleMap: roleMap, HTTPClient: &http.Client{Timeout: 15 * time.Second},
	})
	if err != nil {
		return nil, err
	}
	a.logger.Info("single sign-on enabled", "issuer", o.Issuer, "groups_claim", o.GroupsClaim, "mapped_groups", len(roleMap))
	return provider, nil
}
