package connectors

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"html/template"
	"net"
	netmail "net/mail"
	"net/textproto"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wneessen/go-mail"
)

// emailSpec sends a multipart message, plain text and HTML, over SMTP.
var emailSpec = kindSpec{
	optional: []secretRole{roleUsername, rolePassword},
	settings: []string{"smtp_host", "smtp_port", "from", "to", "starttls", "implicit_tls"},
	validate: validateEmailConfig,
	deliver:  deliverEmail,
}

// E-mail defaults and limits.
const (
	emailDefaultPort     = 587 // SMTP submission with STARTTLS
	emailImplicitTLSPort = 465 // SMTP submission over implicit TLS (RFC 8314)
	emailMaxSubject      = 200
	emailMaxTo           = 50
)

var hostnamePattern = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]{0,252}[A-Za-z0-9])?$`)

func validateEmailConfig(name string, cfg ConnectorConfig) error {
	switch {
	case cfg.SMTPHost == "":
		return fieldError(name, "smtp_host", "missing; set the host name of the SMTP server")
	case !hostnamePattern.MatchString(cfg.SMTPHost):
		return fieldError(name, "smtp_host", "invalid host name; give the host only, without scheme, user information or port")
	case cfg.SMTPPort < 0 || cfg.SMTPPort > 65535:
		return fieldError(name, "smtp_port", "invalid port %d; use 1 to 65535", cfg.SMTPPort)
	case cfg.From == "":
		return fieldError(name, "from", "missing; set the sender address")
	case len(cfg.To) == 0:
		return fieldError(name, "to", "missing; set at least one recipient address")
	case len(cfg.To) > emailMaxTo:
		return fieldError(name, "to", "too many recipients: %d; the maximum is %d", len(cfg.To), emailMaxTo)
	case (cfg.UsernameEnv == "") != (cfg.PasswordEnv == ""):
		return fieldError(name, "password_env", "username_env and password_env must be set together")
	}
	if err := validateEmailTLS(name, cfg); err != nil {
		return err
	}
	if _, err := netmail.ParseAddress(cfg.From); err != nil {
		return fieldError(name, "from", "invalid address %q: %v", cfg.From, err)
	}
	for _, recipient := range cfg.To {
		if _, err := netmail.ParseAddress(recipient); err != nil {
			return fieldError(name, "to", "invalid address %q: %v", recipient, err)
		}
	}
	return nil
}

// validateEmailTLS rejects starttls together with implicit TLS. Implicit
// TLS replaces STARTTLS, and starttls: false would read as no encryption.
func validateEmailTLS(name string, cfg ConnectorConfig) error {
	if !smtpImplicitTLS(cfg) || cfg.StartTLS == nil {
		return nil
	}
	if cfg.ImplicitTLS == nil {
		return fieldError(name, "starttls", "does not apply on port %d, which uses implicit TLS in place of STARTTLS; "+
			"remove starttls, or set implicit_tls: false if this server offers STARTTLS on port %d", emailImplicitTLSPort, emailImplicitTLSPort)
	}
	return fieldError(name, "starttls", "conflicts with implicit_tls: true, which starts TLS in place of STARTTLS; set only one of them")
}

// smtpImplicitTLS reports whether the connection starts with a TLS
// handshake: as configured, or else when the port is 465.
func smtpImplicitTLS(cfg ConnectorConfig) bool {
	if cfg.ImplicitTLS != nil {
		return *cfg.ImplicitTLS
	}
	return cfg.SMTPPort == emailImplicitTLSPort
}

func smtpPort(cfg ConnectorConfig) int {
	switch {
	case cfg.SMTPPort != 0:
		return cfg.SMTPPort
	case smtpImplicitTLS(cfg):
		return emailImplicitTLSPort
	}
	return emailDefaultPort
}

// smtpSignInMethodsOverTLS lists, in order of preference, the sign-in
// methods the client may use on an implicit TLS connection. They are the
// list and order go-mail v0.8.1 discovers on a TLS connection it dials.
var smtpSignInMethodsOverTLS = []mail.SMTPAuthType{
	mail.SMTPAuthSCRAMSHA256PLUS, mail.SMTPAuthSCRAMSHA256, mail.SMTPAuthSCRAMSHA1PLUS, mail.SMTPAuthSCRAMSHA1,
	mail.SMTPAuthNTLM, mail.SMTPAuthCramMD5, mail.SMTPAuthPlain, mail.SMTPAuthLogin,
}

// deliverEmail sends one message over a new SMTP connection.
func deliverEmail(ctx context.Context, r *Registry, d *destination, msg Message) attemptOutcome {
	cfg := d.config
	outcome := attemptOutcome{request: RequestSummary{
		Method:      "SMTP",
		Host:        d.host(),
		Headers:     map[string]string{"From": cfg.From, "To": strings.Join(cfg.To, ", ")},
		ContentType: "multipart/alternative",
	}}

	message, err := buildEmailMessage(cfg, msg, r.now())
	if err != nil {
		outcome.class, outcome.err = ClassConfigError, err
		return outcome
	}
	var rendered bytes.Buffer
	if _, err := message.WriteTo(&rendered); err == nil {
		outcome.request.BodyBytes = rendered.Len()
	}

	var connections dialedConnections
	tlsConfig := &tls.Config{ServerName: cfg.SMTPHost, RootCAs: r.smtpRootCAs, MinVersion: tls.VersionTLS12}
	implicitTLS := smtpImplicitTLS(cfg)
	options := []mail.Option{mail.WithPort(smtpPort(cfg)), mail.WithDialContextFunc(connections.dial)}
	switch {
	case implicitTLS:
		// The mail client does the handshake itself only without a dial
		// function, so connections.dial does it.
		connections.tlsConfig = tlsConfig
		options = append(options, mail.WithSSL())
	case cfg.StartTLS != nil && !*cfg.StartTLS:
		options = append(options, mail.WithTLSPolicy(mail.NoTLS))
	default:
		options = append(options, mail.WithTLSPolicy(mail.TLSMandatory), mail.WithTLSConfig(tlsConfig))
	}
	if deadline, ok := ctx.Deadline(); ok {
		options = append(options, mail.WithTimeout(max(time.Until(deadline), time.Millisecond)))
	}
	if username, ok := d.secrets[roleUsername]; ok {
		signIn := mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover)
		if implicitTLS {
			// The mail client's discovery counts a connection it did not
			// dial as unencrypted and would rule out PLAIN and LOGIN, so
			// the methods are listed here. PLAIN and LOGIN still refuse to
			// send the password without TLS, except to localhost.
			signIn = mail.WithOpportunisticSMTPAuth(smtpSignInMethodsOverTLS...)
		}
		options = append(options,
			signIn,
			mail.WithUsername(username),
			mail.WithPassword(d.secrets[rolePassword]))
	}
	client, err := mail.NewClient(cfg.SMTPHost, options...)
	if err != nil {
		outcome.class, outcome.err = ClassConfigError, err
		return outcome
	}

	err = client.DialAndSendWithContext(ctx, message)
	// The mail client leaves the connection open when the session fails
	// after connecting, for example when STARTTLS is missing.
	connections.closeAll()
	if err == nil {
		outcome.class, outcome.statusCode = ClassOK, 250
		return outcome
	}
	outcome.statusCode = smtpReplyCode(err)
	outcome.class, outcome.err = explainSMTPFailure(cfg, outcome.statusCode, classifySMTPError(ctx, outcome.statusCode, err), err)
	return outcome
}

// explainSMTPFailure reclassifies a failure that lasts until the settings
// or the server's configuration change, and adds the fix to its error.
// Other failures keep class and err.
func explainSMTPFailure(cfg ConnectorConfig, code int, class Class, err error) (Class, error) {
	text := err.Error()
	if strings.Contains(text, "does not support STARTTLS") {
		// The mail client has no error value for this, so its text is
		// matched. It lasts until the server or the settings change.
		return ClassConfigError, fmt.Errorf("%w; enable STARTTLS on the server, or set starttls: false only for a relay on a trusted network", err)
	}
	if strings.HasSuffix(text, "server does not support SMTP AUTH") {
		// go-mail v0.8.1 returns this text, with no error value, when the
		// server's EHLO reply lists no AUTH while a username is set.
		return ClassConfigError, fmt.Errorf("%w; %s", err, noAuthAdvice(cfg))
	}
	if errors.Is(err, mail.ErrNoSupportedAuthDiscovered) {
		// The server offers no sign-in method the client may use, which
		// lasts until the settings change.
		return ClassAuthError, fmt.Errorf("%w; %s", err, noSignInMethodAdvice(cfg))
	}
	if code == 530 {
		// 530 5.7.0 is the reply both for a command sent before STARTTLS
		// (RFC 3207) and for one sent before signing in (RFC 4954).
		switch {
		case strings.Contains(strings.ToUpper(text), "STARTTLS"):
			return ClassConfigError, fmt.Errorf("%w; %s", err, startTLSRequiredAdvice(cfg))
		case cfg.UsernameEnv == "":
			return ClassConfigError, fmt.Errorf("%w; the server requires signing in: set username_env and password_env", err)
		}
	}
	var recordErr tls.RecordHeaderError
	if smtpImplicitTLS(cfg) && errors.As(err, &recordErr) {
		// The server's first bytes are not TLS, typically a plain SMTP
		// greeting, which lasts until the server or the settings change.
		return ClassConfigError, fmt.Errorf("%w; the server does not start TLS on connect: "+
			"set implicit_tls: false to use STARTTLS, or use its implicit TLS port, usually %d", err, emailImplicitTLSPort)
	}
	return class, err
}

// smtpWithoutTLS reports whether the destination connects without any TLS,
// which starttls: false selects.
func smtpWithoutTLS(cfg ConnectorConfig) bool {
	return !smtpImplicitTLS(cfg) && cfg.StartTLS != nil && !*cfg.StartTLS
}

// noAuthAdvice explains how to fix a server that offers no SMTP AUTH while
// the destination has a username and password.
func noAuthAdvice(cfg ConnectorConfig) string {
	if smtpWithoutTLS(cfg) {
		return "a server may offer AUTH only after STARTTLS: turn starttls on, enable AUTH on the server, " +
			"or remove username_env and password_env if the server accepts mail without signing in"
	}
	return "enable AUTH on the server, or remove username_env and password_env if the server accepts mail without signing in"
}

// startTLSRequiredAdvice explains how to fix a server that requires
// STARTTLS before it accepts a command.
func startTLSRequiredAdvice(cfg ConnectorConfig) string {
	if smtpWithoutTLS(cfg) {
		return "the server requires STARTTLS: turn starttls on by removing starttls: false"
	}
	return "the server requires STARTTLS although the connection already uses TLS: check the server's TLS settings"
}

// noSignInMethodAdvice explains how to fix a server that offers no sign-in
// method the client may use. Without TLS the client uses only methods that
// do not send the password itself: SCRAM, NTLM and CRAM-MD5.
func noSignInMethodAdvice(cfg ConnectorConfig) string {
	if cfg.StartTLS != nil && !*cfg.StartTLS {
		return "without starttls the password is sent only with SCRAM, NTLM or CRAM-MD5, which the server does not offer: " +
			"turn starttls on, or use a server that offers one of them"
	}
	return "the client signs in with SCRAM, NTLM, CRAM-MD5, PLAIN or LOGIN, and the server offers none of them: " +
		"enable one of them on the server"
}

// dialedConnections dials SMTP connections and keeps them, so a send can
// close what the mail client left open.
type dialedConnections struct {
	// tlsConfig, when set, makes every connection start with a TLS
	// handshake (implicit TLS).
	tlsConfig *tls.Config

	mu    sync.Mutex
	conns []net.Conn
}

func (d *dialedConnections) dial(ctx context.Context, network, address string) (net.Conn, error) {
	dial := (&net.Dialer{}).DialContext
	if d.tlsConfig != nil {
		// tls.Dialer closes the connection when the handshake fails.
		dial = (&tls.Dialer{Config: d.tlsConfig}).DialContext
	}
	conn, err := dial(ctx, network, address)
	if err == nil {
		d.mu.Lock()
		d.conns = append(d.conns, conn)
		d.mu.Unlock()
	}
	return conn, err
}

// closeAll closes every dialed connection. Closing one the client already
// closed does nothing.
func (d *dialedConnections) closeAll() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, conn := range d.conns {
		_ = conn.Close()
	}
	d.conns = nil
}

func buildEmailMessage(cfg ConnectorConfig, msg Message, now time.Time) (*mail.Msg, error) {
	message := mail.NewMsg()
	if err := message.From(cfg.From); err != nil {
		return nil, fmt.Errorf("invalid sender: %w", err)
	}
	if err := message.To(cfg.To...); err != nil {
		return nil, fmt.Errorf("invalid recipient: %w", err)
	}
	message.Subject(emailSubject(msg))
	message.SetDateWithValue(now)
	message.SetMessageIDWithValue(emailMessageID(msg.IdempotencyKey))
	message.SetUserAgent(userAgent)

	html, err := emailHTML(msg)
	if err != nil {
		return nil, err
	}
	message.SetBodyString(mail.TypeTextPlain, plainText(msg))
	message.AddAlternativeString(mail.TypeTextHTML, html)
	return message, nil
}

// emailSubject returns "[Level] Title" on one line.
func emailSubject(msg Message) string {
	return truncateText(singleLine("["+levelLabel(msg.Level)+"] "+msg.Title), emailMaxSubject, ellipsis)
}

var messageIDPattern = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// emailMessageID derives the Message-ID from the idempotency key, so that
// mail systems can recognise a message delivered twice by a retry.
func emailMessageID(key string) string {
	return messageIDPattern.ReplaceAllString(key, "-") + "@evidence-console.invalid"
}

// smtpReplyCode returns the SMTP reply code carried by err, or 0.
func smtpReplyCode(err error) int {
	var sendErr *mail.SendError
	if errors.As(err, &sendErr) && sendErr.ErrorCode() != 0 {
		return sendErr.ErrorCode()
	}
	var protocolErr *textproto.Error
	if errors.As(err, &protocolErr) {
		return protocolErr.Code
	}
	// Some go-mail errors keep only the server's text, such as
	// "535 5.7.8 authentication failed", wrapped in their own message.
	for _, field := range strings.Fields(err.Error()) {
		if code, convErr := strconv.Atoi(strings.TrimSuffix(field, ":")); convErr == nil && code >= 400 && code <= 599 {
			return code
		}
	}
	return 0
}

// classifySMTPError maps an SMTP failure to a class. Authentication replies
// (530, 534, 535) are auth errors. Other 4xx replies are transient server
// errors and other 5xx replies are permanent client errors. Failures
// without a reply are timeouts or connection errors.
func classifySMTPError(ctx context.Context, code int, err error) Class {
	switch {
	case code == 530 || code == 534 || code == 535:
		return ClassAuthError
	case code >= 400 && code <= 499:
		return ClassServerError
	case code >= 500 && code <= 599:
		return ClassClientError
	}
	if ctx.Err() != nil {
		return ClassTimeout
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return ClassTimeout
	}
	return classifyTransportError(err)
}

// emailHTMLTemplate renders the HTML part. html/template escapes every value.
var emailHTMLTemplate = template.Must(template.New("email").Parse(`<!DOCTYPE html>
<html><body style="font-family: sans-serif; color: #1f2328;">
<h2 style="margin-bottom: 4px;">{{.Title}}</h2>
<p style="margin-top: 0; font-weight: bold; color: {{.Color}};">{{.Level}} · {{.Event}}</p>
{{if .Summary}}<p>{{.Summary}}</p>{{end}}
{{if .Facts}}<table style="border-collapse: collapse;">
{{range .Facts}}<tr><th style="text-align: left; padding: 2px 12px 2px 0;">{{.Label}}</th><td>{{.Value}}</td></tr>
{{end}}</table>{{end}}
{{if or .Items .Omitted}}<ul>
{{range .Items}}<li>{{.}}</li>
{{end}}{{if .Omitted}}<li><em>{{.Omitted}}</em></li>{{end}}
</ul>{{end}}
{{if .Link}}<p><a href="{{.Link}}">{{.LinkText}}</a></p>{{end}}
<p style="color: #59636e; font-size: small;">{{.OccurredAt}}</p>
</body></html>
`))

func emailHTML(msg Message) (string, error) {
	var items []string
	for _, item := range msg.Items {
		items = append(items, itemLine(item))
	}
	data := map[string]any{
		"Title":      msg.Title,
		"Level":      levelLabel(msg.Level),
		"Color":      emailColor(msg.Level),
		"Event":      eventLabel(msg.Event),
		"Summary":    msg.Summary,
		"Facts":      msg.Facts,
		"Items":      items,
		"Omitted":    omittedLine(msg.OmittedCount),
		"Link":       msg.Link,
		"LinkText":   msg.LinkText,
		"OccurredAt": formatTime(msg.OccurredAt),
	}
	var html strings.Builder
	if err := emailHTMLTemplate.Execute(&html, data); err != nil {
		return "", err
	}
	return html.String(), nil
}

// emailColor returns the text color of the level line. Unknown levels get grey.
func emailColor(level string) string {
	switch styleOf(level) {
	case styleCritical:
		return "#cf222e"
	case styleWarning:
		return "#9a6700"
	case styleHealthy:
		return "#1a7f37"
	}
	return "#59636e"
}
