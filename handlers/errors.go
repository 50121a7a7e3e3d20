package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/views"
)

// APIError is the one error model of the application: every JSON endpoint
// returns it as {"error": {...}} and every page renders it.
type APIError struct {
	Status  int    `json:"status"`
	Code    string `json:"code"`
	Message string `json:"message"`
	// Field names the request field that is wrong, when one is.
	Field   string `json:"field,omitempty"`
	Details any    `json:"details,omitempty"`
	// FormMessage, when set, replaces Message in a console form and names
	// the inputs by their on-screen labels. FormField, when set, is the
	// input that the form marks instead of Field, because changing it is
	// the usual fix. formMessage derives both for other errors.
	FormMessage string `json:"-"`
	FormField   string `json:"-"`
	// FormOtherFields are further inputs that the form marks as invalid,
	// when FormMessage names several fields.
	FormOtherFields []string `json:"-"`
	// FormLink, when set, is a local page that the form links to below
	// the message, such as the worker run that the message names.
	FormLink string `json:"-"`
}

func (e *APIError) Error() string { return e.Message }

// Error codes.
const (
	CodeInvalidField     = "invalid_field"
	CodeUnprocessable    = "unprocessable"
	CodeNotFound         = "not_found"
	CodeMalformedBody    = "malformed_body"
	CodeBodyTooLarge     = "body_too_large"
	CodeUnauthenticated  = "unauthenticated"
	CodeForbidden        = "forbidden"
	CodeConflict         = "conflict"
	CodeInternal         = "internal_error"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeUnavailable      = "unavailable"
)

// fieldError is a 400 that names the field and what to send instead.
func fieldError(field, format string, args ...any) *APIError {
	return &APIError{Status: http.StatusBadRequest, Code: CodeInvalidField, Field: field, Message: fmt.Sprintf(format, args...)}
}

// unprocessable is a 422: the request is well formed but cannot be acted on.
func unprocessable(field, format string, args ...any) *APIError {
	return &APIError{Status: http.StatusUnprocessableEntity, Code: CodeUnprocessable, Field: field, Message: fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) *APIError {
	return &APIError{Status: http.StatusNotFound, Code: CodeNotFound, Message: fmt.Sprintf(format, args...)}
}

// wantsJSON reports whether the caller should get a JSON error: API paths and
// clients that ask for JSON do; browsers get a page.
func wantsJSON(c echo.Context) bool {
	path := c.Request().URL.Path
	if strings.HasPrefix(path, "/runtime/") || strings.HasPrefix(path, "/api/") {
		return true
	}
	accept := c.Request().Header.Get(echo.HeaderAccept)
	return strings.Contains(accept, "application/json") && !strings.Contains(accept, "text/html")
}

// Messages of a 413. Only evidence ingestion takes a batch that can be
// split, so only its message suggests smaller batches.
const (
	bodyTooLargeMessage     = "request body is larger than the 10 MiB limit; send a smaller body, with shorter field values or fewer list entries"
	evidenceTooLargeMessage = "request body is larger than the 10 MiB limit; send the evidence records in smaller batches"
)

// toAPIError converts any handler error to the error model. Unknown errors
// become a 500 whose message hides the cause, which is logged instead.
func toAPIError(err error) *APIError {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr
	}
	var httpErr *echo.HTTPError
	if errors.As(err, &httpErr) {
		code := map[int]string{
			http.StatusNotFound: CodeNotFound, http.StatusRequestEntityTooLarge: CodeBodyTooLarge,
			http.StatusMethodNotAllowed: CodeMethodNotAllowed, http.StatusUnauthorized: CodeUnauthenticated,
			http.StatusForbidden: CodeForbidden, http.StatusBadRequest: CodeMalformedBody,
		}[httpErr.Code]
		if code == "" {
			code = CodeInternal
		}
		message := http.StatusText(httpErr.Code)
		switch httpErr.Code {
		case http.StatusRequestEntityTooLarge:
			message = bodyTooLargeMessage
		case http.StatusNotFound:
			message = "no page or endpoint at this address"
		case http.StatusMethodNotAllowed:
			message = "this address does not accept that HTTP method"
		default:
			if text, ok := httpErr.Message.(string); ok && httpErr.Code < 500 {
				message = text
			}
		}
		return &APIError{Status: httpErr.Code, Code: code, Message: message}
	}
	if errors.Is(err, models.ErrNotFound) {
		return notFound("record not found")
	}
	return &APIError{Status: http.StatusInternalServerError, Code: CodeInternal, Message: "internal error; the server log has the details"}
}

// Limits on what an error repeats of the request, so a request with a huge
// value does not get it back in full, or fill the log with it.
const (
	maxQuotedLength  = 80
	maxMessageLength = 2000
	maxFieldLength   = 200
)

// quotedText matches a double-quoted string as %q writes it.
var quotedText = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

// shortened returns a copy of e whose field, quoted values and message are
// cut to their limits, each cut marked with "…", and whose quoted values are
// redacted with redactor, which may be nil. The field is cut in the message
// too. The form message gets the same treatment as the message.
func shortened(e *APIError, redactor *connectors.Redactor) *APIError {
	out := *e
	if field := cutRunes(out.Field, maxFieldLength); field != out.Field {
		out.Message = strings.ReplaceAll(out.Message, out.Field, field)
		out.Field = field
	}
	// Request input may be a pasted secret. The redactor replaces configured
	// secrets, reduces links in quoted values to scheme and host and replaces
	// credential-like text anywhere, such as in an unknown field's name.
	cleanQuoted := func(quoted string) string {
		// The value is redacted unquoted and quoted again, so control and
		// bidirectional characters stay escaped. A value that repeats a
		// configured secret in another letter case, as a lower-cased
		// destination name does, is replaced whole.
		if raw, err := strconv.Unquote(quoted); err == nil {
			clean := redactor.Redact(raw)
			if redactor.HasConfiguredSecretIgnoringCase(clean) {
				clean = connectors.Redacted
			}
			quoted = strconv.Quote(clean)
		}
		if utf8.RuneCountInString(quoted) <= maxQuotedLength {
			return quoted
		}
		return string([]rune(quoted)[:maxQuotedLength-2]) + `…"`
	}
	out.Message = quotedText.ReplaceAllStringFunc(out.Message, cleanQuoted)
	out.Message = redactor.RedactCredentials(out.Message)
	out.Field = redactor.RedactCredentials(out.Field)
	out.Message = cutRunes(out.Message, maxMessageLength)
	if out.FormMessage != "" {
		out.FormMessage = quotedText.ReplaceAllStringFunc(out.FormMessage, cleanQuoted)
		out.FormMessage = cutRunes(redactor.RedactCredentials(out.FormMessage), maxMessageLength)
	}
	return &out
}

// cutRunes cuts s to at most n characters, marking a cut with "…".
func cutRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// errorHandler is Echo's central error handler: it logs 5xx at error and 4xx
// at warn level with the request id, then writes JSON, an htmx fragment or a
// page. Once stopping is closed, a 5xx becomes a 503 stating that the
// server stopped, because the cause is most likely its closed database.
// The logged path, message and error pass through redactor, because they
// can repeat what a client typed.
func errorHandler(logger *slog.Logger, stopping <-chan struct{}, redactor *connectors.Redactor) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		apiErr := shortened(toAPIError(err), redactor)
		if apiErr.Code == CodeBodyTooLarge && c.Request().URL.Path == runtimePrefix+"/evidence" {
			apiErr.Message = evidenceTooLargeMessage
		}
		attrs := []any{
			"method", c.Request().Method, "path", loggedPath(redactor, c.Request().URL.Path),
			"request_id", c.Response().Header().Get(echo.HeaderXRequestID),
		}
		loggedErr := redactor.RedactCredentials(err.Error())
		switch {
		case apiErr.Status >= 500 && isClosed(stopping):
			logger.Warn("request ended by the stopping server", append(attrs, "error", loggedErr)...)
			apiErr = &APIError{Status: http.StatusServiceUnavailable, Code: CodeUnavailable, Message: "the server stopped " +
				"before this request finished, so its outcome may not be recorded. A retry it sent stays in flight " +
				"until a live retry run records it as interrupted"}
		case apiErr.Status >= 500 && errors.Is(c.Request().Context().Err(), context.Canceled):
			// The client left before the response, so the error most likely
			// comes from the cancelled request, and no reply can reach it.
			logger.Info("request ended by the client", append(attrs, "error", loggedErr)...)
			return
		case apiErr.Status >= 500:
			logger.Error("request failed", append(attrs, "status", apiErr.Status, "error", loggedErr)...)
		default:
			logRejected(logger, redactor, c, apiErr)
		}

		var writeErr error
		switch {
		case c.Request().Method == http.MethodHead:
			writeErr = c.NoContent(apiErr.Status)
		case wantsJSON(c):
			writeErr = c.JSON(apiErr.Status, map[string]any{"error": apiErr})
		case isHTMX(c):
			message, field := formMessage(c.Path(), apiErr)
			writeErr = render(c, apiErr.Status, views.ErrorFragment(apiErr.Status, message, field, strings.Join(apiErr.FormOtherFields, " "), apiErr.FormLink))
		default:
			message, _ := formMessage(c.Path(), apiErr)
			writeErr = render(c, apiErr.Status, views.ErrorPage(pageContext(c), apiErr.Status, http.StatusText(apiErr.Status), message, formPageOf(c, redactor)))
		}
		if writeErr != nil {
			logger.Error("unable to write error response", "error", writeErr)
		}
	}
}

// formPageOf returns the path and query of the page whose form sent the
// POST c, from its Referer, so the error page of a post without JavaScript
// links back to the form. It returns "" for other requests, for a page on
// another host, for an address longer than maxFormPageLength and for an
// address that contains a configured secret.
func formPageOf(c echo.Context, redactor *connectors.Redactor) string {
	req := c.Request()
	if req.Method != http.MethodPost {
		return ""
	}
	referer, err := url.Parse(req.Header.Get("Referer"))
	if err != nil || referer.Host != req.Host || !strings.HasPrefix(referer.Path, "/") || strings.HasPrefix(referer.Path, "//") {
		return ""
	}
	page := referer.EscapedPath()
	if referer.RawQuery != "" {
		page += "?" + referer.RawQuery
	}
	if len(page) > maxFormPageLength || redactor.HasConfiguredSecretIgnoringCase(page) {
		return ""
	}
	return page
}

// maxFormPageLength is the longest form page address that an error page
// links back to, in bytes. A longer Referer would be copied into every
// error page, up to net/http's default header size limit of 1 MB.
const maxFormPageLength = 2048

// logRejected logs a 4xx response at warn level, with the request id and
// the path, field and message redacted.
func logRejected(logger *slog.Logger, redactor *connectors.Redactor, c echo.Context, apiErr *APIError) {
	logger.Warn("request rejected", "method", c.Request().Method, "path", loggedPath(redactor, c.Request().URL.Path),
		"request_id", c.Response().Header().Get(echo.HeaderXRequestID), "status", apiErr.Status, "code", apiErr.Code,
		"field", redactor.RedactCredentials(apiErr.Field), "message", redactor.RedactCredentials(apiErr.Message))
}

// isClosed reports whether channel is closed. A nil channel never is.
func isClosed(channel <-chan struct{}) bool {
	select {
	case <-channel:
		return true
	default:
		return false
	}
}
