package handlers

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/releaseops/evidence-console/connectors"
)

// withholdSecrets buffers every HTML and JSON response and removes the
// configured secrets from it before it is sent. Text is checked against
// the configured secrets when it is stored, but a record stored before a
// secret was configured, or written to the database by other means, can
// still contain one. A response that still contains a secret after the
// replacement, spelled in a way the scrubber cannot replace, is withheld
// and replaced by a 500. Downloads (a Content-Disposition header) and
// other media types pass through unbuffered. The headers of every
// response, except Set-Cookie, lose their secrets too (see
// removeHeaderSecrets).
func withholdSecrets(scrubber *connectors.ResponseScrubber, logger *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		if scrubber == nil {
			return next
		}
		return func(c echo.Context) error {
			response := c.Response()
			buffered := &scrubbedWriter{ResponseWriter: response.Writer, scrubber: scrubber, logger: logger, context: c}
			response.Writer = buffered
			defer func() { response.Writer = buffered.ResponseWriter }()

			err := next(c)
			if err != nil {
				// The error response is written here, into the buffer, so
				// it is scrubbed too.
				c.Error(err)
			}
			buffered.finish(scrubber, logger, c)
			return nil
		}
	}
}

// scrubbedWriter holds the status and body of an HTML or JSON response
// until finish. It decides at WriteHeader, from the headers the handler
// set, whether to hold the response or pass it through.
type scrubbedWriter struct {
	http.ResponseWriter
	scrubber    *connectors.ResponseScrubber
	logger      *slog.Logger
	context     echo.Context
	status      int
	mediaType   string
	holding     bool
	passThrough bool
	body        bytes.Buffer
}

func (w *scrubbedWriter) WriteHeader(status int) {
	if w.holding || w.passThrough {
		return
	}
	header := w.Header()
	mediaType, _, _ := mime.ParseMediaType(header.Get(echo.HeaderContentType))
	textual := mediaType == echo.MIMETextHTML || mediaType == echo.MIMEApplicationJSON
	if !textual || header.Get(echo.HeaderContentDisposition) != "" {
		w.passThrough = true
		w.removeHeaderSecrets()
		w.ResponseWriter.WriteHeader(status)
		return
	}
	w.holding = true
	w.status = status
	w.mediaType = mediaType
}

func (w *scrubbedWriter) Write(data []byte) (int, error) {
	if !w.holding && !w.passThrough {
		w.WriteHeader(http.StatusOK)
	}
	if w.passThrough {
		return w.ResponseWriter.Write(data)
	}
	return w.body.Write(data)
}

// Flush flushes a response that passes through. A held response waits for
// finish.
func (w *scrubbedWriter) Flush() {
	if w.passThrough {
		_ = http.NewResponseController(w.ResponseWriter).Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection, so long
// requests can extend their write deadline.
func (w *scrubbedWriter) Unwrap() http.ResponseWriter {
	return w.ResponseWriter
}

// finish sends a held response with the configured secrets removed, or a
// 500 in its place when one cannot be removed.
func (w *scrubbedWriter) finish(scrubber *connectors.ResponseScrubber, logger *slog.Logger, c echo.Context) {
	if !w.holding {
		return
	}
	body, changed, complete := scrubber.Scrub(w.body.String())
	header := w.Header()
	status := w.status
	if !complete {
		logger.Error("response withheld because it contains a configured secret that cannot be redacted",
			"method", c.Request().Method, "path", c.Path(), "request_id", header.Get(echo.HeaderXRequestID))
		status = http.StatusInternalServerError
		// htmx must not act on the withheld response's triggers or redirects.
		for name := range header {
			if strings.HasPrefix(name, "Hx-") {
				header.Del(name)
			}
		}
		message := "this response was withheld because a stored record in it contains a configured destination's secret; " +
			"an administrator can find the request id in the server log"
		if w.mediaType == echo.MIMEApplicationJSON {
			encoded, _ := json.Marshal(map[string]any{"error": &APIError{Status: status, Code: CodeInternal, Message: message}})
			body = string(encoded)
		} else {
			header.Set(echo.HeaderContentType, echo.MIMETextPlainCharsetUTF8)
			body = message + "\n"
		}
	}
	if changed || !complete {
		logger.Warn("configured secret removed from a response", "method", c.Request().Method, "path", c.Path(),
			"request_id", header.Get(echo.HeaderXRequestID), "withheld", !complete)
		header.Del(echo.HeaderContentLength)
	}
	w.removeHeaderSecrets()
	w.ResponseWriter.WriteHeader(status)
	_, _ = w.ResponseWriter.Write([]byte(body))
}

// redirectHeaders are the headers that send the browser or htmx to another
// address. One whose target contains a configured secret is pointed at the
// console instead, because "[redacted]" in its place would lead to a page
// that does not exist.
var redirectHeaders = []string{
	echo.HeaderLocation, "HX-Redirect", "HX-Location", "HX-Push-Url", "HX-Replace-Url", "Refresh",
}

// removeHeaderSecrets removes the configured secrets from the response
// headers before they are sent. A redirect that names one, such as a
// sign-in link whose next parameter a client chose, leads to /console, and
// another header gets the secret replaced, or is deleted when the scrubber
// cannot replace it. Set-Cookie is left alone, because its value is
// encrypted and changing it would end the session.
func (w *scrubbedWriter) removeHeaderSecrets() {
	header := w.Header()
	for name, values := range header {
		if name == "Set-Cookie" {
			continue
		}
		var kept []string
		removed := false
		for _, value := range values {
			cleaned, changed, complete := w.scrubber.Scrub(value)
			switch {
			case !changed && complete:
				kept = append(kept, value)
				continue
			case isRedirectHeader(name):
				kept = append(kept, "/console")
			case complete:
				kept = append(kept, cleaned)
			}
			removed = true
		}
		if !removed {
			continue
		}
		w.logger.Warn("configured secret removed from a response header", "header", name,
			"method", w.context.Request().Method, "path", w.context.Path(), "request_id", header.Get(echo.HeaderXRequestID))
		if len(kept) == 0 {
			header.Del(name)
		} else {
			header[name] = kept
		}
	}
}

func isRedirectHeader(name string) bool {
	return slices.ContainsFunc(redirectHeaders, func(redirect string) bool { return http.CanonicalHeaderKey(redirect) == name })
}
