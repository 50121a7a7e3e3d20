package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/releaseops/evidence-console/models"
)

// OIDCSettings configures single sign-on with an OpenID Connect provider.
type OIDCSettings struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	// RedirectURL is the console's callback, PUBLIC_URL/sign-in/oidc/callback.
	RedirectURL string
	// GroupsClaim names the ID token claim that lists the user's groups.
	GroupsClaim string
	// RoleMap maps a group to the role its members get.
	RoleMap map[string]Role
	// HTTPClient talks to the provider; nil means http.DefaultClient.
	HTTPClient *http.Client
}

// OIDCIdentity is a verified single sign-on identity.
type OIDCIdentity struct {
	// Subject is the issuer and the provider's subject, which together
	// identify a person for good.
	Subject  string
	Username string
	// Role is the most privileged role mapped from the user's groups, or ""
	// when none of the groups is mapped.
	Role   Role
	Groups []string
}

// ErrOIDCRejected is a single sign-on identity that may not sign in. Its
// message gives the reason and is safe to show.
type ErrOIDCRejected struct{ Reason string }

func (e *ErrOIDCRejected) Error() string { return e.Reason }

// OIDC signs users in through an OpenID Connect provider with the
// authorization code flow, PKCE (S256), state and nonce.
type OIDC struct {
	settings OIDCSettings
	config   oauth2.Config
	verifier *oidc.IDTokenVerifier
}

// NewOIDC discovers the provider at settings.Issuer. It fails when the
// provider does not respond or its issuer differs.
func NewOIDC(ctx context.Context, settings OIDCSettings) (*OIDC, error) {
	if settings.GroupsClaim == "" {
		settings.GroupsClaim = "groups"
	}
	provider, err := oidc.NewProvider(settings.clientContext(ctx), settings.Issuer)
	if err != nil {
		return nil, fmt.Errorf("auth: OpenID Connect discovery at %s failed: %w", settings.Issuer, err)
	}
	return &OIDC{
		settings: settings,
		config: oauth2.Config{
			ClientID: settings.ClientID, ClientSecret: settings.ClientSecret, Endpoint: provider.Endpoint(),
			RedirectURL: settings.RedirectURL, Scopes: []string{oidc.ScopeOpenID, "profile", "email"},
		},
		verifier: provider.Verifier(&oidc.Config{ClientID: settings.ClientID}),
	}, nil
}

func (s OIDCSettings) clientContext(ctx context.Context) context.Context {
	if s.HTTPClient == nil {
		return ctx
	}
	return oidc.ClientContext(ctx, s.HTTPClient)
}

// NewOIDCChallenge returns a fresh state, nonce and PKCE code verifier for
// one sign-in attempt.
func NewOIDCChallenge() (state, nonce, verifier string, err error) {
	if state, err = randomString(24); err != nil {
		return "", "", "", err
	}
	if nonce, err = randomString(24); err != nil {
		return "", "", "", err
	}
	return state, nonce, oauth2.GenerateVerifier(), nil
}

// AuthCodeURL returns the provider's sign-in address for one attempt.
func (o *OIDC) AuthCodeURL(state, nonce, verifier string) string {
	return o.config.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier))
}

// Exchange trades an authorization code for an ID token, verifies the
// token's signature, issuer, audience, expiry and nonce, and returns the
// identity with its mapped role.
func (o *OIDC) Exchange(ctx context.Context, code, verifier, nonce string) (OIDCIdentity, error) {
	ctx = o.settings.clientContext(ctx)
	token, err := o.config.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return OIDCIdentity{}, fmt.Errorf("auth: OpenID Connect code exchange failed: %w", err)
	}
	raw, ok := token.Extra("id_token").(string)
	if !ok || raw == "" {
		return OIDCIdentity{}, errors.New("auth: the provider's token response has no id_token")
	}
	idToken, err := o.verifier.Verify(ctx, raw)
	if err != nil {
		return OIDCIdentity{}, fmt.Errorf("auth: ID token rejected: %w", err)
	}
	if !EqualTokens(idToken.Nonce, nonce) {
		return OIDCIdentity{}, errors.New("auth: ID token rejected: nonce does not match this sign-in attempt")
	}

	var claims map[string]any
	if err := idToken.Claims(&claims); err != nil {
		return OIDCIdentity{}, fmt.Errorf("auth: ID token claims are unreadable: %w", err)
	}
	identity := OIDCIdentity{Subject: idToken.Issuer + "|" + idToken.Subject, Groups: stringList(claims[o.settings.GroupsClaim])}
	for _, claim := range []string{"preferred_username", "email"} {
		if value, ok := claims[claim].(string); ok && value != "" {
			identity.Username = NormalizeUsername(value)
			break
		}
	}
	if identity.Username == "" {
		identity.Username = NormalizeUsername(idToken.Subject)
	}
	identity.Role = o.mapRole(identity.Groups)
	return identity, nil
}

// mapRole returns the most privileged role any of groups maps to.
func (o *OIDC) mapRole(groups []string) Role {
	best := -1
	for _, group := range groups {
		role, ok := o.settings.RoleMap[group]
		if !ok {
			continue
		}
		for rank, candidate := range Roles() {
			if candidate == role && rank > best {
				best = rank
			}
		}
	}
	if best < 0 {
		return ""
	}
	return Roles()[best]
}

// stringList reads a claim that is a list of strings or one string.
func stringList(value any) []string {
	switch v := value.(type) {
	case string:
		return []string{v}
	case []any:
		list := make([]string, 0, len(v))
		for _, item := range v {
			if s, ok := item.(string); ok {
				list = append(list, s)
			}
		}
		return list
	}
	return nil
}

// ParseRoleMap reads "group=role,group=role".
func ParseRoleMap(text string) (map[string]Role, error) {
	roles := map[string]Role{}
	for _, pair := range strings.Split(text, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		group, role, found := strings.Cut(pair, "=")
		group, role = strings.TrimSpace(group), strings.TrimSpace(role)
		if !found || group == "" {
			return nil, fmt.Errorf("%q is not group=role", pair)
		}
		if !Role(role).Valid() {
			return nil, fmt.Errorf("%q: %q is not a role; use one of %s", pair, role, RoleList())
		}
		roles[group] = Role(role)
	}
	return roles, nil
}

// SignInOIDC returns the user linked to a verified single sign-on identity,
// creating it with the mapped role on first sign-in. Later sign-ins keep the
// stored role, which an admin may have changed, but still need a mapped
// group. It returns *ErrOIDCRejected when the identity may not sign in.
func (s *Service) SignInOIDC(ctx context.Context, identity OIDCIdentity) (User, error) {
	if identity.Role == "" {
		s.logger().Warn("single sign-on rejected: no group maps to a role", "subject", identity.Subject, "groups", identity.Groups)
		return User{}, &ErrOIDCRejected{Reason: "Your account is in no group that grants a role in the Evidence Console. Ask an admin to add one of your groups to OIDC_ROLE_MAP."}
	}
	record, err := models.UserByOIDCSubject(ctx, s.DB, identity.Subject)
	if err == nil {
		if record.Disabled {
			s.logger().Warn("single sign-on rejected: user is disabled", "user_id", record.ID)
			return User{}, &ErrOIDCRejected{Reason: "Your user is disabled. Ask an admin to enable it."}
		}
		return userOf(record), nil
	}
	if !errors.Is(err, models.ErrNotFound) {
		return User{}, err
	}

	user, err := s.CreateUser(ctx, NewUser{Username: identity.Username, Role: identity.Role, OIDCSubject: identity.Subject, CreatedBy: "single sign-on"})
	var invalid *ValidationError
	switch {
	case errors.Is(err, ErrUserExists):
		s.logger().Warn("single sign-on rejected: username is taken by another user", "username", identity.Username)
		return User{}, &ErrOIDCRejected{Reason: fmt.Sprintf("A different user named %s already exists. Ask an admin to rename or remove it.", identity.Username)}
	case errors.As(err, &invalid) && invalid.Credential:
		s.logger().Warn("single sign-on rejected: username looks like a credential", "subject", identity.Subject)
		return User{}, &ErrOIDCRejected{Reason: "Your username from the identity provider looks like a credential or a link, so it cannot be used. " +
			"Ask the identity provider's admin to give your account a plain username."}
	case errors.As(err, &invalid):
		return User{}, &ErrOIDCRejected{Reason: fmt.Sprintf("Your username from the identity provider cannot be used: %s.", invalid.Message)}
	case err != nil:
		return User{}, err
	}
	return user, nil
}
