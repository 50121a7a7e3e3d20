package handlers

import (
	"errors"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
)

// rejectUnstorableText rejects a request whose query string or form body is
// malformed, or whose path, query parameters or form fields contain a NUL
// character or bytes that are not UTF-8. No text
// column can store such a value: PostgreSQL rejects both, and SQLite would
// keep bytes that no page or export can show.
func rejectUnstorableText(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if !storableText(r.URL.Path) {
			return fieldError("path", "the request path contains a NUL character or bytes that are not UTF-8; remove them")
		}
		// Handlers read query and form values through parsers that drop a
		// malformed pair without a word, which would silently apply a
		// default, so a malformed pair is rejected here.
		query, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			return fieldError("query", "the query string is malformed (%v); escape %% as %%25 and separate parameters with &", err)
		}
		if err := checkValues(query, "query parameter"); err != nil {
			return err
		}
		if r.Method != http.MethodPost {
			return next(c)
		}
		mediaType, _, _ := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType))
		switch mediaType {
		case echo.MIMEApplicationForm:
			if err := r.ParseForm(); err != nil {
				// A body without Content-Length reaches the body limit only
				// while it is read, here.
				if overBodyLimit(err) {
					return echo.ErrStatusRequestEntityTooLarge
				}
				return fieldError("form", "the form body is malformed (%v); send it URL-encoded, with %% escaped as %%25", err)
			}
			if err := checkValues(r.PostForm, "form field"); err != nil {
				return err
			}
		case echo.MIMEMultipartForm:
			if err := r.ParseMultipartForm(maxFormMemory); err == nil && r.MultipartForm != nil {
				if err := checkValues(r.MultipartForm.Value, "form field"); err != nil {
					return err
				}
			}
		}
		return next(c)
	}
}

// overBodyLimit reports whether reading a body failed on the body limit:
// echo's BodyLimit middleware returns a 413 *echo.HTTPError, and
// http.MaxBytesReader a *http.MaxBytesError.
func overBodyLimit(err error) bool {
	var httpErr *echo.HTTPError
	if errors.As(err, &httpErr) {
		return httpErr.Code == http.StatusRequestEntityTooLarge
	}
	var maxBytes *http.MaxBytesError
	return errors.As(err, &maxBytes)
}

// maxFormMemory is how much of a multipart form is held in memory; the
// body limit bounds the rest.
const maxFormMemory = 1 << 20

// checkValues returns a 400 naming the first of values whose name or value
// is not storable text. kind names the kind of values, such as "form field".
func checkValues(values url.Values, kind string) error {
	for name, list := range values {
		if !storableText(name) {
			printable := strings.ToValidUTF8(strings.ReplaceAll(name, "\x00", ""), "")
			return fieldError(printable, "a %s name contains a NUL character or bytes that are not UTF-8; remove them", kind)
		}
		for _, value := range list {
			if !storableText(value) {
				return fieldError(name, "%s %s contains a NUL character or bytes that are not UTF-8; remove them", kind, name)
			}
		}
	}
	return nil
}

// storableText reports whether s is UTF-8 text without a NUL character.
func storableText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}
