package handlers

import (
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
)

// rejectUnstorableText rejects a request whose path, query parameters or
// form fields contain a NUL character or bytes that are not UTF-8. No text
// column can store such a value: PostgreSQL rejects both, and SQLite would
// keep bytes that no page or export can show.
func rejectUnstorableText(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if !storableText(r.URL.Path) {
			return fieldError("path", "the request path contains a NUL character or bytes that are not UTF-8; remove them")
		}
		if query, err := url.ParseQuery(r.URL.RawQuery); err == nil {
			if err := checkValues(query, "query parameter"); err != nil {
				return err
			}
		}
		mediaType, _, _ := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType))
		if r.Method == http.MethodPost && mediaType == echo.MIMEApplicationForm {
			if err := r.ParseForm(); err == nil {
				if err := checkValues(r.PostForm, "form field"); err != nil {
					return err
				}
			}
		}
		return next(c)
	}
}

// checkValues returns a 400 naming the first of values whose name or value
// is not storable text. what names the kind of values, such as "form field".
func checkValues(values url.Values, what string) error {
	for name, list := range values {
		shown := name
		if !storableText(name) {
			shown = strings.ToValidUTF8(strings.ReplaceAll(name, "\x00", ""), "")
			return fieldError(shown, "a %s name contains a NUL character or bytes that are not UTF-8; remove them", what)
		}
		for _, value := range list {
			if !storableText(value) {
				return fieldError(name, "%s %s contains a NUL character or bytes that are not UTF-8; remove them", what, name)
			}
		}
	}
	return nil
}

// storableText reports whether s is UTF-8 text without a NUL character.
func storableText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}
