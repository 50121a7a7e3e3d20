// Package receiver is a local HTTP server that accepts the requests of every
// connector kind, responds to each in the form its real destination uses, and
// records them in memory. Developers run it beside the application so every
// connector works without external services, and tests use it to choose
// failures by path.
//
// Paths:
//
//	POST /fail/<status>/...  responds with that HTTP status (429 and 503 carry Retry-After: 120);
//	                         another /fail/ path responds 404
//	POST /hang/...           responds only when the client gives up
//	POST any other path      responds with success in the form of the kind the path names
//	GET  /                   lists recent requests, with credential headers redacted
//	GET  /requests.json      returns recent requests as JSON, with credential headers redacted
//	GET  /lookups.json       returns recent Jira and ServiceNow lookups and what they found
//
// A receiver started WithSecrets also replaces the configured secrets, such
// as a Slack URL's path, in the paths, queries, headers and bodies these
// listings show.
//
//	GET  Jira and ServiceNow lookups
//	                         find the issues and records created here, by label
//	                         (…/search and …/search/jql) or by correlation_id
//	                         (/api/now/table/<table>?sysparm_query=correlation_id=…)
package receiver

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/releaseops/evidence-console/connectors"
)

// Limits that keep the receiver's memory bounded.
const (
	MaxRecordedRequests = 500
	MaxBodyBytes        = 1 << 20
	pageRequests        = 100
)

// RetryAfterSeconds is the Retry-After value of simulated 429 and 503 responses.
const RetryAfterSeconds = 120

// Request is one recorded request. Headers and Body are as received,
// including credentials, so that tests can verify signatures; the page and
// the JSON listing redact credential headers.
type Request struct {
	Time       time.Time
	Method     string
	Path       string
	Query      string
	Headers    http.Header
	Body       []byte
	StatusCode int // status of the receiver's response, 0 while a /hang/ request waits
}

// Receiver is an http.Handler that records requests. It is safe for
// concurrent use.
type Receiver struct {
	mu       sync.Mutex
	requests []Request
	sequence int
	// created maps the label of a Jira issue, or the correlation_id of a
	// ServiceNow record, to the name of the one created here. order lists
	// its keys oldest first, so that the oldest can be dropped.
	created map[string]string
	order   []string
	// lookups are the Jira and ServiceNow lookups served, oldest first.
	lookups []Lookup
	// secrets are removed from the listings; nil removes none.
	secrets *connectors.Redactor
}

// Option configures a Receiver.
type Option func(*Receiver)

// WithSecrets makes the listings replace the configured secrets of
// redactor with "[redacted]", so a page anyone on the machine can open
// shows no secret URL path or token. The recorded requests keep them.
func WithSecrets(redactor *connectors.Redactor) Option {
	return func(rc *Receiver) { rc.secrets = redactor }
}

// Lookup is one Jira search or ServiceNow query the receiver served.
type Lookup struct {
	Time  time.Time `json:"time"`
	Path  string    `json:"path"`
	Query string    `json:"query"`
	// Found names the issue or record returned, or is empty when none was.
	Found string `json:"found"`
}

// Lookups returns a copy of the served lookups, oldest first.
func (rc *Receiver) Lookups() []Lookup {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.lookups)
}

// recordLookup keeps one served lookup, dropping the oldest beyond
// MaxRecordedRequests.
func (rc *Receiver) recordLookup(r *http.Request, found string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.lookups) >= MaxRecordedRequests {
		rc.lookups = slices.Delete(rc.lookups, 0, len(rc.lookups)-MaxRecordedRequests+1)
	}
	rc.lookups = append(rc.lookups, Lookup{Time: time.Now().UTC(), Path: r.URL.Path, Query: r.URL.RawQuery, Found: found})
}

// New returns an empty Receiver.
func New(options ...Option) *Receiver {
	rc := &Receiver{created: map[string]string{}}
	for _, option := range options {
		option(rc)
	}
	return rc
}

// Requests returns a copy of the recorded requests, oldest first.
func (rc *Receiver) Requests() []Request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	copied := make([]Request, len(rc.requests))
	for i, request := range rc.requests {
		request.Headers = request.Headers.Clone()
		request.Body = slices.Clone(request.Body)
		copied[i] = request
	}
	return copied
}

// Reset deletes every recorded request.
func (rc *Receiver) Reset() {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.requests = nil
	rc.created = map[string]string{}
	rc.order = nil
	rc.lookups = nil
}

// remember stores the name of a created issue or record under each key it
// can be found by.
func (rc *Receiver) remember(keys []string, name string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, key := range keys {
		if _, ok := rc.created[key]; !ok {
			rc.order = append(rc.order, key)
		}
		rc.created[key] = name
	}
	for len(rc.order) > MaxRecordedRequests {
		delete(rc.created, rc.order[0])
		rc.order = rc.order[1:]
	}
}

func (rc *Receiver) lookUp(key string) (string, bool) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	name, ok := rc.created[key]
	return name, ok
}

// record stores a request and returns its sequence number, counting from 1.
func (rc *Receiver) record(request Request) (int, int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.requests) >= MaxRecordedRequests {
		rc.requests = slices.Delete(rc.requests, 0, len(rc.requests)-MaxRecordedRequests+1)
	}
	rc.requests = append(rc.requests, request)
	rc.sequence++
	return len(rc.requests) - 1, rc.sequence
}

func (rc *Receiver) setStatus(index int, request *Request, statusCode int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	// The entry may have moved or gone after Reset or eviction, so it is
	// identified by its time and path as well as its index.
	if index < len(rc.requests) && rc.requests[index].Time.Equal(request.Time) && rc.requests[index].Path == request.Path {
		rc.requests[index].StatusCode = statusCode
	}
}

// ServeHTTP implements http.Handler.
func (rc *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setSecurityHeaders(w.Header())
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		switch r.URL.Path {
		case "/":
			rc.servePage(w)
		case "/requests.json":
			rc.serveJSON(w)
		case "/lookups.json":
			writeJSON(w, http.StatusOK, rc.recentLookups())
		default:
			if rc.serveLookup(w, r) {
				return
			}
			http.Error(w, "not found; send a POST to any path to record it, or open / to list recorded requests", http.StatusNotFound)
		}
		return
	}

	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		http.Error(w, "reading the request body failed", http.StatusBadRequest)
		return
	}
	request := Request{
		Time:    time.Now().UTC(),
		Method:  r.Method,
		Path:    r.URL.Path,
		Query:   r.URL.RawQuery,
		Headers: r.Header.Clone(),
		Body:    body[:min(len(body), MaxBodyBytes)],
	}
	index, sequence := rc.record(request)

	if len(body) > MaxBodyBytes {
		rc.setStatus(index, &request, http.StatusRequestEntityTooLarge)
		http.Error(w, fmt.Sprintf("request body is larger than %d bytes", MaxBodyBytes), http.StatusRequestEntityTooLarge)
		return
	}
	if strings.HasPrefix(r.URL.Path, "/hang/") {
		<-r.Context().Done()
		return
	}
	if statusCode, ok := failureStatus(r.URL.Path); ok {
		rc.setStatus(index, &request, statusCode)
		writeFailure(w, statusCode)
		return
	}
	if r.URL.Path == "/fail" || strings.HasPrefix(r.URL.Path, "/fail/") {
		// A mistyped failure address gets an error response, so a setting
		// such as LOCAL_FAILING_URL with a typo does not pass as a success.
		rc.setStatus(index, &request, http.StatusNotFound)
		writeJSON(w, http.StatusNotFound, map[string]any{
			"error": "a failure address is /fail/<status>/…, with a status from 400 to 599",
		})
		return
	}
	statusCode := writeSuccess(w, r.URL.Path, body, sequence)
	rc.setStatus(index, &request, statusCode)
	rc.rememberCreated(r.URL.Path, body, sequence)
}

// rememberCreated keeps the issue or record that a Jira or ServiceNow
// request created, so that a later lookup finds it.
func (rc *Receiver) rememberCreated(path string, body []byte, sequence int) {
	switch kindForPath(path) {
	case connectors.KindJira:
		var issue struct {
			Fields struct {
				Labels []string `json:"labels"`
			} `json:"fields"`
		}
		if json.Unmarshal(body, &issue) == nil && len(issue.Fields.Labels) > 0 {
			rc.remember(issue.Fields.Labels, jiraIssueKey(sequence))
		}
	case connectors.KindServiceNow:
		var record struct {
			CorrelationID string `json:"correlation_id"`
		}
		if json.Unmarshal(body, &record) == nil && record.CorrelationID != "" {
			rc.remember([]string{record.CorrelationID}, serviceNowNumber(sequence))
		}
	}
}

// serveLookup responds to a Jira search by label or a ServiceNow query by
// correlation_id in the form of the real API, and reports whether r was one.
func (rc *Receiver) serveLookup(w http.ResponseWriter, r *http.Request) bool {
	query := r.URL.Query()
	switch {
	case kindForPath(r.URL.Path) == connectors.KindJira &&
		(strings.HasSuffix(r.URL.Path, "/search") || strings.HasSuffix(r.URL.Path, "/search/jql")):
		issues := []any{}
		found := ""
		if _, label, ok := strings.Cut(query.Get("jql"), `labels = "`); ok {
			if key, ok := rc.lookUp(strings.TrimSuffix(label, `"`)); ok {
				issues = append(issues, map[string]any{"key": key})
				found = key
			}
		}
		rc.recordLookup(r, found)
		writeJSON(w, http.StatusOK, map[string]any{"issues": issues})
		return true
	case kindForPath(r.URL.Path) == connectors.KindServiceNow && query.Has("sysparm_query"):
		records := []any{}
		found := ""
		if id, ok := strings.CutPrefix(query.Get("sysparm_query"), "correlation_id="); ok {
			if number, ok := rc.lookUp(strings.ReplaceAll(id, "^^", "^")); ok {
				records = append(records, map[string]any{"number": number})
				found = number
			}
		}
		rc.recordLookup(r, found)
		writeJSON(w, http.StatusOK, map[string]any{"result": records})
		return true
	}
	return false
}

func jiraIssueKey(sequence int) string { return fmt.Sprintf("OPS-%d", sequence) }

func serviceNowNumber(sequence int) string { return fmt.Sprintf("INC%07d", sequence) }

// failureStatus parses "/fail/<status>/..." and reports the status.
func failureStatus(path string) (int, bool) {
	rest, ok := strings.CutPrefix(path, "/fail/")
	if !ok {
		return 0, false
	}
	code, _, _ := strings.Cut(rest, "/")
	// Three digits exactly, so "+503" or "0503" is a typo, not a status.
	if len(code) != 3 || strings.Trim(code, "0123456789") != "" {
		return 0, false
	}
	statusCode, _ := strconv.Atoi(code)
	if statusCode < 400 || statusCode > 599 {
		return 0, false
	}
	return statusCode, true
}

func writeFailure(w http.ResponseWriter, statusCode int) {
	if statusCode == http.StatusTooManyRequests || statusCode == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", strconv.Itoa(RetryAfterSeconds))
	}
	writeJSON(w, statusCode, map[string]any{
		"error":  "simulated failure",
		"status": statusCode,
	})
}

// writeSuccess responds in the form of the kind named by the path and
// returns the status it used.
func writeSuccess(w http.ResponseWriter, path string, body []byte, sequence int) int {
	switch kindForPath(path) {
	case connectors.KindSlack:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "ok")
		return http.StatusOK
	case connectors.KindTeams, connectors.KindSentinel:
		statusCode := http.StatusAccepted
		if kindForPath(path) == connectors.KindSentinel {
			statusCode = http.StatusNoContent
		}
		w.WriteHeader(statusCode)
		return statusCode
	case connectors.KindPagerDuty:
		var event struct {
			DedupKey string `json:"dedup_key"`
		}
		_ = json.Unmarshal(body, &event)
		writeJSON(w, http.StatusAccepted, map[string]any{"status": "success", "message": "Event processed", "dedup_key": event.DedupKey})
		return http.StatusAccepted
	case connectors.KindJira:
		writeJSON(w, http.StatusCreated, map[string]any{"id": strconv.Itoa(10000 + sequence), "key": jiraIssueKey(sequence)})
		return http.StatusCreated
	case connectors.KindServiceNow:
		sum := sha256.Sum256(body)
		writeJSON(w, http.StatusCreated, map[string]any{"result": map[string]any{
			"sys_id": hex.EncodeToString(sum[:16]),
			"number": serviceNowNumber(sequence),
		}})
		return http.StatusCreated
	case connectors.KindSplunk:
		writeJSON(w, http.StatusOK, map[string]any{"text": "Success", "code": 0})
		return http.StatusOK
	case connectors.KindDatadog:
		writeJSON(w, http.StatusAccepted, map[string]any{"status": "ok"})
		return http.StatusAccepted
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok"})
	return http.StatusOK
}

// kindForPath returns the kind named by a path segment, such as
// "/slack/T000/B000/XXXX", or by the kind's real API path, such as
// "/rest/api/2/issue". Other paths are generic webhooks.
func kindForPath(path string) connectors.Kind {
	lower := strings.ToLower(path)
	for segment := range strings.SplitSeq(lower, "/") {
		if kind := connectors.Kind(segment); kind.Valid() {
			return kind
		}
	}
	switch {
	case strings.Contains(lower, "/services/collector"):
		return connectors.KindSplunk
	case strings.HasPrefix(lower, "/services/"):
		return connectors.KindSlack
	case strings.Contains(lower, "/workflows/"):
		return connectors.KindTeams
	case strings.Contains(lower, "/rest/api/"):
		return connectors.KindJira
	case strings.Contains(lower, "/api/now/table/"):
		return connectors.KindServiceNow
	case strings.Contains(lower, "/api/v1/events"):
		return connectors.KindDatadog
	case strings.Contains(lower, "/datacollectionrules/"):
		return connectors.KindSentinel
	case strings.Contains(lower, "/v2/enqueue"):
		return connectors.KindPagerDuty
	}
	return connectors.KindWebhook
}

func writeJSON(w http.ResponseWriter, statusCode int, value any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(statusCode)
	_ = json.NewEncoder(w).Encode(value)
}

// listedRequest is a recorded request as the page and the JSON listing show it.
type listedRequest struct {
	Time       time.Time         `json:"time"`
	Method     string            `json:"method"`
	Path       string            `json:"path"`
	Query      string            `json:"query,omitempty"`
	StatusCode int               `json:"status_code"`
	Headers    map[string]string `json:"headers"`
	Body       string            `json:"body"`
}

// recentRequests returns up to pageRequests requests, newest first, with
// credential headers redacted.
func (rc *Receiver) recentRequests() []listedRequest {
	requests := rc.Requests()
	listed := make([]listedRequest, 0, min(len(requests), pageRequests))
	for i := len(requests) - 1; i >= 0 && len(listed) < pageRequests; i-- {
		request := requests[i]
		listed = append(listed, listedRequest{
			Time:       request.Time,
			Method:     request.Method,
			Path:       rc.withoutSecrets(request.Path),
			Query:      rc.withoutSecrets(request.Query),
			StatusCode: request.StatusCode,
			Headers:    rc.listedHeaders(request.Headers),
			Body:       rc.withoutSecrets(prettyBody(request.Body)),
		})
	}
	return listed
}

// listedHeaders returns the first value of each header with credential
// headers redacted and the configured secrets removed from names and values,
// because a client can send a secret as a header name too. Names that are
// equal once cleaned are listed once, with their values joined by ", " in
// the order of the original names.
func (rc *Receiver) listedHeaders(header http.Header) map[string]string {
	redacted := connectors.RedactHeaders(header)
	listed := make(map[string]string, len(redacted))
	for _, original := range slices.Sorted(maps.Keys(redacted)) {
		name, value := rc.withoutSecrets(original), rc.withoutSecrets(redacted[original])
		if earlier, ok := listed[name]; ok {
			value = earlier + ", " + value
		}
		listed[name] = value
	}
	return listed
}

// prettyBody indents a JSON body and returns any other body as text.
func prettyBody(body []byte) string {
	var indented strings.Builder
	var value any
	if json.Unmarshal(body, &value) == nil {
		encoder := json.NewEncoder(&indented)
		encoder.SetIndent("", "  ")
		encoder.SetEscapeHTML(false)
		if encoder.Encode(value) == nil {
			return indented.String()
		}
	}
	return string(body)
}

// recentLookups returns up to pageRequests lookups, newest first, without
// the configured secrets.
func (rc *Receiver) recentLookups() []Lookup {
	lookups := rc.Lookups()
	slices.Reverse(lookups)
	lookups = lookups[:min(len(lookups), pageRequests)]
	for i := range lookups {
		lookups[i].Path = rc.withoutSecrets(lookups[i].Path)
		lookups[i].Query = rc.withoutSecrets(lookups[i].Query)
		lookups[i].Found = rc.withoutSecrets(lookups[i].Found)
	}
	return lookups
}

// withoutSecrets replaces the configured secrets in text, in any letter
// case and in their encoded forms.
func (rc *Receiver) withoutSecrets(text string) string {
	cleaned, _ := rc.secrets.RemoveConfiguredSecrets(text)
	return cleaned
}

// pageStyle is the listing page's only style sheet. It is inline, so the
// receiver serves one file, and the Content-Security-Policy allows it by
// its hash.
const pageStyle = `
body { font-family: sans-serif; margin: 2em 1em; }
pre { background: #f6f8fa; padding: 8px; overflow-x: auto; }
td, th { text-align: left; padding: 2px 12px 2px 0; vertical-align: top; }
td, th, h2 { overflow-wrap: anywhere; }
`

// contentSecurityPolicy allows no script, frame, form or remote resource,
// and pageStyle alone as style.
var contentSecurityPolicy = func() string {
	hash := sha256.Sum256([]byte(pageStyle))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(hash[:]) + "'; " +
		"frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
}()

// setSecurityHeaders sets the security headers the console's responses
// carry, with a stricter policy, so a page or listing of the receiver
// cannot be framed, sniffed as another type or made to run script.
func setSecurityHeaders(header http.Header) {
	header.Set("Content-Security-Policy", contentSecurityPolicy)
	header.Set("X-Content-Type-Options", "nosniff")
	header.Set("X-Frame-Options", "DENY")
	header.Set("Referrer-Policy", "same-origin")
}

func (rc *Receiver) serveJSON(w http.ResponseWriter) {
	writeJSON(w, http.StatusOK, rc.recentRequests())
}

var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Connector receiver</title>
<style>{{.Style}}</style></head>
<body>
<h1>Connector receiver</h1>
<p>{{len .Requests}} most recent requests, newest first. Credential headers are redacted. <a href="/requests.json">JSON</a></p>
{{if .Lookups}}<h2>Jira and ServiceNow lookups</h2>
<p>Each attempt to Jira or ServiceNow first looks for the issue or record an earlier attempt created. <a href="/lookups.json">JSON</a></p>
<table>{{range .Lookups}}<tr><td>{{.Time.Format "15:04:05.000"}}</td><td>GET {{.Path}}?{{.Query}}</td><td>{{if .Found}}found {{.Found}}{{else}}none found{{end}}</td></tr>{{end}}</table>
{{end}}
{{range .Requests}}<section>
<h2>{{.Method}} {{.Path}}{{if .Query}}?{{.Query}}{{end}} → {{if .StatusCode}}{{.StatusCode}}{{else}}waiting{{end}}</h2>
<p>{{.Time.Format "2006-01-02 15:04:05.000 MST"}}</p>
<table>{{range $name, $value := .Headers}}<tr><th>{{$name}}</th><td>{{$value}}</td></tr>{{end}}</table>
<pre>{{.Body}}</pre>
</section>
{{else}}<p>No requests yet. Point a connector URL at this server, for example /slack/T000/B000/XXXX or /fail/503/webhook.</p>
{{end}}</body></html>
`))

func (rc *Receiver) servePage(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = pageTemplate.Execute(w, struct {
		Style    template.CSS
		Requests []listedRequest
		Lookups  []Lookup
	}{template.CSS(pageStyle), rc.recentRequests(), rc.recentLookups()})
}

// Server is a running receiver.
type Server struct {
	*Receiver
	URL    string // base URL, such as http://127.0.0.1:8025
	Addr   string // listening address, such as 127.0.0.1:8025
	server *http.Server
}

// Start listens on addr and serves a new Receiver with options until Close.
// An empty addr listens on a free loopback port.
func Start(addr string, options ...Option) (*Server, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	listener, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("start connector receiver on %s: %w", addr, err)
	}
	receiver := New(options...)
	server := &Server{
		Receiver: receiver,
		URL:      "http://" + listener.Addr().String(),
		Addr:     listener.Addr().String(),
		server:   &http.Server{Handler: receiver, ReadHeaderTimeout: 10 * time.Second},
	}
	go func() {
		if err := server.server.Serve(listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			slog.Error("connector receiver stopped", "addr", server.Addr, "error", err)
		}
	}()
	return server, nil
}

// Close stops the server and ends waiting /hang/ requests.
func (s *Server) Close() error {
	return s.server.Close()
}
