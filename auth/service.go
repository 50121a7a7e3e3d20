package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/models"
)

// Session limits enforced on the server, regardless of the cookie expiry.
const (
	DefaultSessionLifetime = 12 * time.Hour
	DefaultIdleTimeout     = 2 * time.Hour
	// sessionTouchInterval limits how often a session's last activity is
	// written, so reading pages does not write on every request.
	sessionTouchInterval = time.Minute
)

// Errors of the service. Handlers map them to status codes.
var (
	// ErrInvalidCredentials covers an unknown user, a wrong password and a
	// disabled user alike, so a response does not reveal which it was.
	ErrInvalidCredentials = errors.New("username or password is wrong")
	ErrRateLimited        = errors.New("too many failed sign-ins; wait 15 minutes and try again")
	ErrNoSession          = errors.New("session is missing, expired or signed out")
	ErrInvalidToken       = errors.New("API token is unknown, revoked, or belongs to a disabled user")
	ErrUserExists         = errors.New("a user with this username already exists")
	ErrNotFirstUser       = errors.New("a user exists already, so this is not the first user")
	ErrUserNotFound       = errors.New("user not found")
	ErrTokenNotFound      = errors.New("API token not found")
)

// ValidationError is a rejected input value, naming the field.
type ValidationError struct {
	Field   string
	Message string
	// Credential is set when the value looks like a credential, so a page
	// must not show it again.
	Credential bool
}

func (e *ValidationError) Error() string { return e.Field + ": " + e.Message }

// User is a stored user without credentials, as services and handlers
// use it.
type User struct {
	ID           string
	Username     string
	Role         Role
	Disabled     bool
	SingleSignOn bool
	CreatedBy    string
	CreatedAt    time.Time
	LastSignInAt *time.Time
}

// Token is a personal API token without its secret.
type Token struct {
	ID         string
	UserID     string
	Name       string
	Prefix     string
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

// Service stores users, sessions and API tokens and checks credentials.
type Service struct {
	DB     *gorm.DB
	Now    func() time.Time
	Logger *slog.Logger
	// SessionLifetime and IdleTimeout default to DefaultSessionLifetime and
	// DefaultIdleTimeout.
	SessionLifetime time.Duration
	IdleTimeout     time.Duration
	// LimitKeySecret keys the hash under which sign-in limits store the
	// usernames and addresses they count, so a copy of the database does not
	// reveal them to a dictionary attack. Servers that share a database
	// must share it to share their counts. Without it the hash is unkeyed.
	LimitKeySecret []byte
	// Secrets contains the configured destinations' secrets, which API
	// token labels and usernames must not contain. Nil contains none.
	Secrets *connectors.Redactor
}

func (s *Service) now() time.Time {
	if s.Now == nil {
		return models.UTC(time.Now())
	}
	return models.UTC(s.Now())
}

func (s *Service) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.Default()
	}
	return s.Logger
}

func (s *Service) lifetime() time.Duration {
	if s.SessionLifetime > 0 {
		return s.SessionLifetime
	}
	return DefaultSessionLifetime
}

func (s *Service) idleTimeout() time.Duration {
	if s.IdleTimeout > 0 {
		return s.IdleTimeout
	}
	return DefaultIdleTimeout
}

// MaxUsernameLength is the length in characters of the longest username
// that usernamePattern allows.
const MaxUsernameLength = 64

// MaxTokenNameLength is the length in characters of the longest API token
// name.
const MaxTokenNameLength = 100

// usernamePattern allows lower-case letters, digits and . _ @ - (so e-mail
// addresses from single sign-on fit), 2 to MaxUsernameLength characters.
var usernamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._@-]{1,63}$`)

// NormalizeUsername returns the stored form of a username: trimmed and in
// lower case.
func NormalizeUsername(username string) string {
	return strings.ToLower(strings.TrimSpace(username))
}

// ValidateUsername checks a username in its stored form (see
// NormalizeUsername).
func ValidateUsername(username string) error {
	if !usernamePattern.MatchString(NormalizeUsername(username)) {
		return errors.New("use 2 to 64 lower-case letters, digits or . _ @ -, starting with a letter or digit")
	}
	return nil
}

// ValidateNewUsername checks a username before CreateUser stores it. Logs
// and every record of the user show the name, so besides the pattern of
// ValidateUsername it must not look like a credential or a link, nor
// contain a secret of secrets in any letter case. A nil secrets finds
// credential-like names only. The error is a *ValidationError on
// "username", with Credential set when the name must not be shown again.
func ValidateNewUsername(username string, secrets *connectors.Redactor) error {
	typed := strings.TrimSpace(username)
	if secrets.FindCredential(typed) != "" || secrets.HasConfiguredSecretIgnoringCase(typed) || strings.Contains(typed, "://") {
		return &ValidationError{Field: "username", Credential: true,
			Message: "looks like a credential or a link; use a plain name such as alex.kim"}
	}
	if err := ValidateUsername(typed); err != nil {
		return &ValidationError{Field: "username", Message: err.Error()}
	}
	return nil
}

// NewUser is the input of CreateUser.
type NewUser struct {
	Username string
	Role     Role
	// Password is empty for a user who signs in only through single sign-on.
	Password string
	// OIDCSubject links the user to a single sign-on identity.
	OIDCSubject string
	CreatedBy   string
	// FirstUser stores the user only while no user exists, and otherwise
	// fails with ErrNotFirstUser.
	FirstUser bool
}

// ValidateNewUser checks every field of a new user and returns one error
// per invalid field, in the order username, role, password, so a form can
// show them all at once. It does not check whether the username is taken.
func (s *Service) ValidateNewUser(input NewUser) []*ValidationError {
	var problems []*ValidationError
	var invalid *ValidationError
	if err := ValidateNewUsername(input.Username, s.Secrets); errors.As(err, &invalid) {
		problems = append(problems, invalid)
	}
	if !input.Role.Valid() {
		problems = append(problems, invalidRole(input.Role))
	}
	switch {
	case input.Password == "" && input.OIDCSubject == "":
		problems = append(problems, &ValidationError{Field: "password", Message: "is required"})
	case input.Password != "" && len([]rune(input.Password)) < MinPasswordLength:
		problems = append(problems, &ValidationError{Field: "password", Message: fmt.Sprintf("must have at least %d characters", MinPasswordLength)})
	}
	return problems
}

// CreateUser validates and stores a new user. An invalid field fails with
// the first *ValidationError of ValidateNewUser.
func (s *Service) CreateUser(ctx context.Context, input NewUser) (User, error) {
	if problems := s.ValidateNewUser(input); len(problems) > 0 {
		return User{}, problems[0]
	}
	username := NormalizeUsername(input.Username)
	hash := ""
	if input.Password != "" {
		var err error
		if hash, err = HashPassword(input.Password); err != nil {
			return User{}, err
		}
	}

	// A taken username is the caller's mistake, so look it up before the
	// INSERT, because a failed INSERT logs an ERROR line. The duplicate-key
	// check below still covers a user created in between.
	if _, err := models.UserByUsername(ctx, s.DB, username); err == nil {
		return User{}, ErrUserExists
	} else if !errors.Is(err, models.ErrNotFound) {
		return User{}, err
	}

	now := s.now()
	record := &models.User{
		ID: models.NewID("usr", now), Username: username, Role: string(input.Role), PasswordHash: hash,
		OIDCSubject: input.OIDCSubject, CreatedBy: input.CreatedBy, CreatedAt: now, UpdatedAt: now,
	}
	store := models.CreateUser
	if input.FirstUser {
		store = models.CreateFirstUser
	}
	if err := store(ctx, s.DB, record); err != nil {
		if errors.Is(err, models.ErrDuplicate) {
			return User{}, ErrUserExists
		}
		if errors.Is(err, models.ErrUsersExist) {
			return User{}, ErrNotFirstUser
		}
		return User{}, err
	}
	s.logger().Info("user created", "user_id", record.ID, "username", username, "role", input.Role, "created_by", input.CreatedBy)
	return userOf(record), nil
}

// MaxRoleLength is the length in characters of the longest value that a
// role error quotes. Every role name is shorter, so a longer value is
// described by the maximum instead of being repeated.
const MaxRoleLength = 32

// invalidRole returns the validation error for a value that is not a role.
func invalidRole(role Role) *ValidationError {
	if utf8.RuneCountInString(string(role)) > MaxRoleLength {
		return &ValidationError{Field: "role", Message: fmt.Sprintf("must have at most %d characters; use one of %s", MaxRoleLength, RoleList())}
	}
	return &ValidationError{Field: "role", Message: fmt.Sprintf("%q is not a role; use one of %s", role, RoleList())}
}

// RoleList returns the roles as a comma-separated list for messages.
func RoleList() string {
	names := make([]string, 0, len(Roles()))
	for _, role := range Roles() {
		names = append(names, string(role))
	}
	return strings.Join(names, ", ")
}

func userOf(record *models.User) User {
	return User{
		ID: record.ID, Username: record.Username, Role: Role(record.Role), Disabled: record.Disabled,
		SingleSignOn: record.OIDCSubject != "", CreatedBy: record.CreatedBy, CreatedAt: record.CreatedAt,
		LastSignInAt: record.LastSignInAt,
	}
}

// CountUsers returns how many users exist.
func (s *Service) CountUsers(ctx context.Context) (int64, error) {
	return models.CountUsers(ctx, s.DB)
}

// ListUsers returns every user ordered by username.
func (s *Service) ListUsers(ctx context.Context) ([]User, error) {
	records, err := models.ListUsers(ctx, s.DB)
	if err != nil {
		return nil, err
	}
	users := make([]User, 0, len(records))
	for i := range records {
		users = append(users, userOf(&records[i]))
	}
	return users, nil
}

// UserByID returns one user or ErrUserNotFound.
func (s *Service) UserByID(ctx context.Context, id string) (User, error) {
	record, err := models.UserByID(ctx, s.DB, id)
	if errors.Is(err, models.ErrNotFound) {
		return User{}, ErrUserNotFound
	}
	if err != nil {
		return User{}, err
	}
	return userOf(record), nil
}

// UserByUsername returns one user or ErrUserNotFound.
func (s *Service) UserByUsername(ctx context.Context, username string) (User, error) {
	record, err := models.UserByUsername(ctx, s.DB, NormalizeUsername(username))
	if errors.Is(err, models.ErrNotFound) {
		return User{}, ErrUserNotFound
	}
	if err != nil {
		return User{}, err
	}
	return userOf(record), nil
}

// SetRole changes the role of one user.
func (s *Service) SetRole(ctx context.Context, userID string, role Role, actor string) error {
	if !role.Valid() {
		return invalidRole(role)
	}
	err := models.UpdateUser(ctx, s.DB, userID, map[string]any{"role": string(role), "updated_at": s.now()})
	if errors.Is(err, models.ErrNotFound) {
		return ErrUserNotFound
	}
	if err != nil {
		return err
	}
	s.logger().Info("user role changed", "user_id", userID, "role", role, "actor", actor)
	return nil
}

// SetDisabled disables or enables one user. Disabling also ends every
// session of the user; their API tokens stop working while disabled.
func (s *Service) SetDisabled(ctx context.Context, userID string, disabled bool, actor string) error {
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := models.UpdateUser(ctx, tx, userID, map[string]any{"disabled": disabled, "updated_at": s.now()}); err != nil {
			return err
		}
		if disabled {
			return models.DeleteUserSessionsOf(ctx, tx, userID)
		}
		return nil
	})
	if errors.Is(err, models.ErrNotFound) {
		return ErrUserNotFound
	}
	if err != nil {
		return err
	}
	s.logger().Info("user access changed", "user_id", userID, "disabled", disabled, "actor", actor)
	return nil
}

// CheckPassword verifies a username and password for sign-in. Failures are
// counted per username and per client address; once either reaches the
// limit, CheckPassword returns ErrRateLimited without checking the
// password. The password is never logged, and neither is a username that
// matches no user, because people sometimes type their password into the
// username field.
func (s *Service) CheckPassword(ctx context.Context, username, password, clientIP string) (User, error) {
	username = NormalizeUsername(username)
	now := s.now()
	userKey, ipKey := userKeyPrefix+username, addressKeyPrefix+clientIP

	record, err := models.UserByUsername(ctx, s.DB, username)
	if err != nil && !errors.Is(err, models.ErrNotFound) {
		return User{}, err
	}
	attempt := []any{"client_ip", clientIP}
	if record != nil {
		attempt = append(attempt, "user_id", record.ID, "username", record.Username)
	}

	// The attempt counts as a failure from here on, and a success below
	// takes it back.
	reserved, blocked, err := s.reserveAttempt(ctx, now, ipKey, userKey)
	if err != nil {
		return User{}, err
	}
	if blocked {
		s.logger().Warn("sign-in rejected by the rate limit", attempt...)
		return User{}, ErrRateLimited
	}

	ok := false
	if record != nil {
		ok, err = VerifyPassword(record.PasswordHash, password)
		if err != nil {
			s.logger().Error("stored password hash is unreadable", "user_id", record.ID, "error", err)
		}
	} else {
		// Hash anyway, so an unknown username takes as long as a wrong
		// password and response times do not reveal which usernames exist.
		_, _ = HashPassword(password)
	}
	if !ok || record.Disabled {
		reason := "wrong password"
		switch {
		case record == nil:
			reason = "unknown username"
		case ok && record.Disabled:
			reason = "user is disabled"
		}
		s.logger().Warn("sign-in failed", append(attempt, "reason", reason)...)
		return User{}, ErrInvalidCredentials
	}

	if err := s.releaseAttempt(context.WithoutCancel(ctx), reserved, userKey); err != nil {
		// The sign-in itself succeeded; the attempt stays counted as a
		// failure until it leaves the window.
		s.logger().Error("clearing failed sign-ins failed", append(attempt, "error", err)...)
	}
	return userOf(record), nil
}

// StartSession creates a session for a user who just proved their identity
// and returns the secret for the session cookie. Every sign-in gets a new
// secret, so a session identifier planted before sign-in is worthless.
func (s *Service) StartSession(ctx context.Context, userID, method string) (string, error) {
	secret, err := randomString(32)
	if err != nil {
		return "", err
	}
	now := s.now()
	session := &models.UserSession{
		ID: hashSecret(secret), UserID: userID, Method: method, CreatedAt: now, LastSeenAt: now,
		ExpiresAt: now.Add(s.lifetime()),
	}
	err = s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// Sign-ins are rare, so each one also removes sessions that expired
		// or went idle, keeping the table small without a background job.
		if _, err := models.DeleteExpiredUserSessions(ctx, tx, now, now.Add(-s.idleTimeout())); err != nil {
			return err
		}
		if err := models.CreateUserSession(ctx, tx, session); err != nil {
			return err
		}
		return models.UpdateUser(ctx, tx, userID, map[string]any{"last_sign_in_at": now})
	})
	if err != nil {
		return "", err
	}
	s.logger().Info("user signed in", "user_id", userID, "method", method)
	return secret, nil
}

// SessionUser returns the user of the session with secret, enforcing the
// session lifetime, the idle timeout and the user's disabled flag. An
// expired session is deleted.
func (s *Service) SessionUser(ctx context.Context, secret string) (User, error) {
	if secret == "" {
		return User{}, ErrNoSession
	}
	id := hashSecret(secret)
	session, err := models.UserSessionByID(ctx, s.DB, id)
	if errors.Is(err, models.ErrNotFound) {
		return User{}, ErrNoSession
	}
	if err != nil {
		return User{}, err
	}

	now := s.now()
	if !now.Before(session.ExpiresAt) || now.Sub(session.LastSeenAt) >= s.idleTimeout() {
		if err := models.DeleteUserSession(ctx, s.DB, id); err != nil {
			return User{}, err
		}
		return User{}, ErrNoSession
	}

	record, err := models.UserByID(ctx, s.DB, session.UserID)
	if errors.Is(err, models.ErrNotFound) {
		return User{}, ErrNoSession
	}
	if err != nil {
		return User{}, err
	}
	if record.Disabled {
		return User{}, ErrNoSession
	}

	// NOTE: activity is written at most once per sessionTouchInterval, so
	// reading pages writes here, and the idle timeout can end a session up
	// to that interval early.
	if now.Sub(session.LastSeenAt) >= sessionTouchInterval {
		if err := models.TouchUserSession(ctx, s.DB, id, now); err != nil {
			return User{}, err
		}
	}
	return userOf(record), nil
}

// EndSession deletes the session with secret (sign-out).
func (s *Service) EndSession(ctx context.Context, secret string) error {
	if secret == "" {
		return nil
	}
	return models.DeleteUserSession(ctx, s.DB, hashSecret(secret))
}

// CreateToken creates a personal API token for a user and returns the token
// itself, which is shown once and never stored, with its record.
func (s *Service) CreateToken(ctx context.Context, userID, name string) (string, Token, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		name = "API token"
	}
	// The length is checked first, so an overlong name is not scanned.
	if utf8.RuneCountInString(name) > MaxTokenNameLength {
		return "", Token{}, &ValidationError{Field: "name", Message: fmt.Sprintf("must have at most %d characters", MaxTokenNameLength)}
	}
	// The label is shown on the profile and users pages, so it must not be
	// a pasted credential or a configured secret. This is checked before
	// the rest, so a rejected name of any other kind may be shown again for
	// correction.
	if s.Secrets.FindCredential(name) != "" || strings.Contains(name, "://") {
		return "", Token{}, &ValidationError{Field: "name", Credential: true,
			Message: "looks like a credential or a link; use a plain label such as ci-deploy"}
	}
	// The label is one line of text, so it may hold no line break of any
	// kind and no other control character.
	if c, found := connectors.FirstControlOrSeparator(name); found {
		return "", Token{}, &ValidationError{Field: "name",
			Message: "contains the " + connectors.DescribeControlOrSeparator(c) + "; use printable text on one line"}
	}
	// Invisible and text-direction characters could make one label look
	// like another on the pages that list tokens.
	if strings.ContainsFunc(name, func(c rune) bool { return unicode.Is(unicode.Cf, c) }) {
		return "", Token{}, &ValidationError{Field: "name",
			Message: "contains an invisible or text-direction character; use printable text only"}
	}
	if _, err := models.UserByID(ctx, s.DB, userID); err != nil {
		if errors.Is(err, models.ErrNotFound) {
			return "", Token{}, ErrUserNotFound
		}
		return "", Token{}, err
	}
	secret, prefix, hash, err := newAPIToken()
	if err != nil {
		return "", Token{}, err
	}
	now := s.now()
	record := &models.APIToken{ID: models.NewID("tok", now), UserID: userID, Name: name, Prefix: prefix, TokenHash: hash, CreatedAt: now}
	if err := models.CreateAPIToken(ctx, s.DB, record); err != nil {
		return "", Token{}, err
	}
	s.logger().Info("API token created", "user_id", userID, "token_id", record.ID, "token_prefix", prefix)
	return secret, tokenOf(record), nil
}

func tokenOf(record *models.APIToken) Token {
	return Token{
		ID: record.ID, UserID: record.UserID, Name: record.Name, Prefix: record.Prefix, CreatedAt: record.CreatedAt,
		LastUsedAt: record.LastUsedAt, RevokedAt: record.RevokedAt,
	}
}

// ListTokens returns the tokens of a user, newest first, revoked ones
// included.
func (s *Service) ListTokens(ctx context.Context, userID string) ([]Token, error) {
	records, err := models.ListAPITokens(ctx, s.DB, userID)
	if err != nil {
		return nil, err
	}
	tokens := make([]Token, 0, len(records))
	for i := range records {
		tokens = append(tokens, tokenOf(&records[i]))
	}
	return tokens, nil
}

// RevokeToken revokes one token of userID.
func (s *Service) RevokeToken(ctx context.Context, userID, tokenID, actor string) error {
	err := models.RevokeAPIToken(ctx, s.DB, userID, tokenID, s.now())
	if errors.Is(err, models.ErrNotFound) {
		return ErrTokenNotFound
	}
	if err != nil {
		return err
	}
	s.logger().Info("API token revoked", "user_id", userID, "token_id", tokenID, "actor", actor)
	return nil
}

// TokenUser returns the user of a bearer token and records its use. A
// revoked token, an unknown token and a disabled user's token all return
// ErrInvalidToken.
func (s *Service) TokenUser(ctx context.Context, secret string) (User, error) {
	if !strings.HasPrefix(secret, apiTokenPrefix) {
		return User{}, ErrInvalidToken
	}
	token, err := models.APITokenByHash(ctx, s.DB, hashSecret(secret))
	if errors.Is(err, models.ErrNotFound) {
		return User{}, ErrInvalidToken
	}
	if err != nil {
		return User{}, err
	}
	if token.RevokedAt != nil {
		return User{}, ErrInvalidToken
	}
	record, err := models.UserByID(ctx, s.DB, token.UserID)
	if err != nil {
		if errors.Is(err, models.ErrNotFound) {
			return User{}, ErrInvalidToken
		}
		return User{}, err
	}
	if record.Disabled {
		return User{}, ErrInvalidToken
	}
	now := s.now()
	if token.LastUsedAt == nil || now.Sub(*token.LastUsedAt) >= sessionTouchInterval {
		if err := models.TouchAPIToken(ctx, s.DB, token.ID, now); err != nil {
			return User{}, err
		}
	}
	return userOf(record), nil
}
