package views

import (
	"net/url"
	"strings"

	"github.com/a-h/templ"

	"github.com/releaseops/evidence-console/auth"
)

// SignInPage is the sign-in form's view model.
type SignInPage struct {
	// Next is the local path opened after signing in. The handler checks
	// it and sets /console when it is missing or points elsewhere.
	Next     string
	Username string
	// Error is shown above the form after a failed attempt.
	Error string
	// Unsaved shows a notice that the action that led here was not
	// carried out, because the session had ended.
	Unsaved bool
	// SingleSignOn shows the "Sign in with single sign-on" button.
	SingleSignOn bool
}

// SetupPage is the "create the first admin" form's view model.
type SetupPage struct {
	Token    string
	Username string
	Error    string
	Field    string
}

// UserRow is one user on the users page.
type UserRow struct {
	ID           string
	Username     string
	Role         string
	Disabled     bool
	SingleSignOn bool
	CreatedBy    string
	CreatedAt    string
	LastSignInAt string
	Tokens       []TokenRow
	// Self marks the signed-in admin's own row, whose role and status cannot
	// be changed from this page.
	Self bool
}

// TokenRow is one API token, never with its secret.
type TokenRow struct {
	ID         string
	Name       string
	Prefix     string
	CreatedAt  string
	LastUsedAt string
	Revoked    bool
}

// UsersPage is the admin's users page.
type UsersPage struct {
	Users []UserRow
	Roles []string
	// Created lists the users created since the page was last shown.
	Created []CreatedUser
	// Errors are the create form's rejected fields, in form order, each
	// shown at once.
	Errors []FieldError
	// FormUsername and FormRole refill the create form after a rejected
	// submission; the password is never sent back.
	FormUsername string
	FormRole     string
}

// FieldError is a message about one form field.
type FieldError struct {
	Field   string
	Message string
}

// ErrorID returns the element id of the message about field.
func (e FieldError) ErrorID() string {
	return "users-error-" + e.Field
}

// FieldAttributes marks the create form's input named name as invalid and
// links it to its message, when an error names it. The first field in
// error is focused.
func (v UsersPage) FieldAttributes(name string) templ.Attributes {
	for i, problem := range v.Errors {
		if problem.Field != name {
			continue
		}
		attributes := templ.Attributes{"aria-invalid": "true", "aria-describedby": problem.ErrorID()}
		if i == 0 {
			attributes["autofocus"] = true
		}
		return attributes
	}
	return templ.Attributes{}
}

// ErrorField returns the field of the first error, or "".
func (v UsersPage) ErrorField() string {
	if len(v.Errors) == 0 {
		return ""
	}
	return v.Errors[0].Field
}

// CreatedUser is a user just created on the users page.
type CreatedUser struct {
	Username string
	// GeneratedPassword is the password the server generated, shown once,
	// or "" when the admin chose the password.
	GeneratedPassword string
}

// ProfilePage shows the signed-in user's own API tokens.
type ProfilePage struct {
	Username string
	Role     string
	Tokens   []TokenRow
	// NewTokens are the tokens created since the page was last loaded,
	// oldest first, each shown once.
	NewTokens []string
	Error     string
	// TokenName is the rejected name, shown again for correction.
	TokenName string
}

// SafeExternalLink returns ref as a link target when it is an absolute http
// or https URL, and "" otherwise, so a reference such as
// "javascript:alert(1)" is shown as plain text and never becomes a link.
func SafeExternalLink(ref string) string {
	ref = strings.TrimSpace(ref)
	parsed, err := url.Parse(ref)
	if err != nil || parsed.Host == "" {
		return ""
	}
	scheme := strings.ToLower(parsed.Scheme)
	if scheme != "http" && scheme != "https" {
		return ""
	}
	return parsed.String()
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// Shows reports whether the navigation item is for the signed-in user's
// role; visitors who are not signed in see no items. The server checks the
// permission again on every request.
func (pc PageContext) Shows(item NavItem) bool {
	if !pc.SignedIn {
		return false
	}
	return item.Permission == "" || auth.Role(pc.UserRole).Can(item.Permission)
}

// formRole returns the role a rejected create form asked for, or viewer
// for a new form.
func formRole(role string) string {
	if role == "" {
		return "viewer"
	}
	return role
}

// setupFieldError returns the attributes that mark the setup form's input
// name as the one the error names and tie it to the error text.
func setupFieldError(v SetupPage, name string) templ.Attributes {
	if v.Error == "" || v.Field != name {
		return templ.Attributes{}
	}
	return templ.Attributes{"aria-invalid": "true", "aria-describedby": "setup-error"}
}
