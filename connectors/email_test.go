package connectors

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// smtpTestServer is a minimal SMTP server on 127.0.0.1 that supports EHLO,
// AUTH CRAM-MD5, AUTH PLAIN, MAIL, RCPT, DATA, RSET, NOOP and QUIT. Replies
// to RCPT and MAIL and the silence before the greeting are configurable per
// test.
type smtpTestServer struct {
	listener  net.Listener
	mailReply string // reply to MAIL FROM, "250 2.1.0 OK" by default
	rcptReply string // reply to RCPT TO, "250 2.1.5 OK" by default
	silent    bool   // never send the greeting
	username  string // required AUTH user, "" to not advertise AUTH
	password  string
	// authMechanisms replaces the advertised AUTH mechanisms, CRAM-MD5 by
	// default.
	authMechanisms string
	// tlsConfig, when set, makes the server offer STARTTLS and offer AUTH
	// only after the upgrade.
	tlsConfig *tls.Config
	// implicitTLS makes the server start TLS with tlsConfig before the
	// greeting, as on port 465, and not offer STARTTLS.
	implicitTLS bool

	mu           sync.Mutex
	messages     []string
	rcpts        []string
	tlsMessages  int // messages received over TLS
	authAttempts int
	open         atomic.Int32 // connections not yet closed
}

func startSMTPServer(t *testing.T, configure func(*smtpTestServer)) *smtpTestServer {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	server := &smtpTestServer{listener: listener, mailReply: "250 2.1.0 OK", rcptReply: "250 2.1.5 OK"}
	if configure != nil {
		configure(server)
	}
	var connections sync.WaitGroup
	go func() {
		for {
			conn, err := listener.Accept()
			if err != nil {
				return
			}
			connections.Go(func() { server.handle(conn) })
		}
	}()
	t.Cleanup(func() {
		_ = listener.Close()
		connections.Wait()
	})
	return server
}

func (s *smtpTestServer) port() int {
	return s.listener.Addr().(*net.TCPAddr).Port
}

func (s *smtpTestServer) handle(conn net.Conn) {
	s.open.Add(1)
	defer s.open.Add(-1)
	defer func() { _ = conn.Close() }()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	upgraded := false
	if s.implicitTLS {
		secure := tls.Server(conn, s.tlsConfig)
		if err := secure.Handshake(); err != nil {
			return
		}
		conn, upgraded = secure, true
	}
	reader := bufio.NewReader(conn)
	reply := func(lines ...string) {
		for _, line := range lines {
			_, _ = conn.Write([]byte(line + "\r\n"))
		}
	}
	if s.silent {
		_, _ = reader.ReadString('\n') // wait until the client gives up
		return
	}

	reply("220 127.0.0.1 ESMTP test server")
	for {
		line, err := reader.ReadString('\n')
		if err != nil {
			return
		}
		command := strings.TrimRight(line, "\r\n")
		verb := strings.ToUpper(strings.SplitN(command, " ", 2)[0])
		switch {
		case verb == "EHLO":
			switch {
			case s.tlsConfig != nil && !upgraded:
				reply("250-127.0.0.1", "250-STARTTLS", "250 8BITMIME")
			case s.username != "" && s.authMechanisms != "":
				reply("250-127.0.0.1", "250-AUTH "+s.authMechanisms, "250 8BITMIME")
			case s.username != "":
				reply("250-127.0.0.1", "250-AUTH CRAM-MD5", "250 8BITMIME")
			default:
				reply("250-127.0.0.1", "250 8BITMIME")
			}
		case verb == "STARTTLS" && s.tlsConfig != nil && !upgraded:
			reply("220 2.0.0 Ready to start TLS")
			secure := tls.Server(conn, s.tlsConfig)
			if err := secure.Handshake(); err != nil {
				return
			}
			conn, reader, upgraded = secure, bufio.NewReader(secure), true
		case verb == "HELO", verb == "RSET", verb == "NOOP":
			reply("250 OK")
		case strings.HasPrefix(strings.ToUpper(command), "AUTH CRAM-MD5"):
			s.mu.Lock()
			s.authAttempts++
			s.mu.Unlock()
			s.authenticate(reader, reply)
		case strings.HasPrefix(strings.ToUpper(command), "AUTH PLAIN "):
			s.mu.Lock()
			s.authAttempts++
			s.mu.Unlock()
			s.authenticatePlain(strings.TrimSpace(command[len("AUTH PLAIN "):]), reply)
		case verb == "MAIL":
			reply(s.mailReply)
		case verb == "RCPT":
			s.mu.Lock()
			s.rcpts = append(s.rcpts, command)
			s.mu.Unlock()
			reply(s.rcptReply)
		case verb == "DATA":
			reply("354 End data with <CR><LF>.<CR><LF>")
			var data strings.Builder
			for {
				dataLine, err := reader.ReadString('\n')
				if err != nil {
					return
				}
				if dataLine == ".\r\n" {
					break
				}
				data.WriteString(dataLine)
			}
			s.mu.Lock()
			s.messages = append(s.messages, data.String())
			if upgraded {
				s.tlsMessages++
			}
			s.mu.Unlock()
			reply("250 2.0.0 OK queued")
		case verb == "QUIT":
			reply("221 2.0.0 Bye")
			return
		default:
			reply("502 5.5.2 Command not recognized")
		}
	}
}

// authenticate runs a CRAM-MD5 exchange and checks the digest.
func (s *smtpTestServer) authenticate(reader *bufio.Reader, reply func(...string)) {
	challenge := "<1234.5678@127.0.0.1>"
	reply("334 " + base64.StdEncoding.EncodeToString([]byte(challenge)))
	line, err := reader.ReadString('\n')
	if err != nil {
		return
	}
	decoded, _ := base64.StdEncoding.DecodeString(strings.TrimSpace(line))
	user, digest, _ := strings.Cut(string(decoded), " ")
	mac := hmac.New(md5.New, []byte(s.password))
	mac.Write([]byte(challenge))
	if user == s.username && digest == hex.EncodeToString(mac.Sum(nil)) {
		reply("235 2.7.0 Authentication successful")
		return
	}
	reply("535 5.7.8 Authentication credentials invalid")
}

// authenticatePlain checks the initial response of AUTH PLAIN, which is
// the base64 encoding of "authzid NUL user NUL password".
func (s *smtpTestServer) authenticatePlain(response string, reply func(...string)) {
	decoded, _ := base64.StdEncoding.DecodeString(response)
	parts := strings.Split(string(decoded), "\x00")
	if len(parts) == 3 && parts[1] == s.username && parts[2] == s.password {
		reply("235 2.7.0 Authentication successful")
		return
	}
	reply("535 5.7.8 Authentication credentials invalid")
}

func (s *smtpTestServer) received() ([]string, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.messages...), append([]string(nil), s.rcpts...)
}

func emailConfig(port int) ConnectorConfig {
	noTLS := false
	return ConnectorConfig{
		SMTPHost: "127.0.0.1",
		SMTPPort: port,
		From:     "console@example.test",
		To:       []string{"ops@example.test", "lead@example.test"},
		StartTLS: &noTLS,
	}
}

func TestEmailSendsMultipartMessage(t *testing.T) {
	server := startSMTPServer(t, func(s *smtpTestServer) {
		s.username, s.password = "mailer", "smtp-pa55word-secret"
	})
	config := emailConfig(server.port())
	config.UsernameEnv, config.PasswordEnv = "SMTP_USER", "SMTP_PASSWORD"
	registry := newTestRegistry(t, oneConnector("email", config),
		map[string]string{"SMTP_USER": "mailer", "SMTP_PASSWORD": "smtp-pa55word-secret"}, nil)

	result := registry.Send(context.Background(), "email", sampleMessage(), SendOptions{Timeout: 5 * time.Second})

	if !result.Success {
		t.Fatalf("Success: got false, want true (class %q, error %q)", result.Class, result.Error)
	}
	checkEqual(t, "StatusCode", result.StatusCode, 250)
	checkEqual(t, "Request.Method", result.Request.Method, "SMTP")
	checkEqual(t, "Request.Host", result.Request.Host, "127.0.0.1:"+strconv.Itoa(server.port()))
	messages, rcpts := server.received()
	if len(messages) != 1 {
		t.Fatalf("messages received: got %d, want 1", len(messages))
	}
	checkEqual(t, "recipients", len(rcpts), 2)
	message := messages[0]
	for _, want := range []string{
		"Subject: [Critical] Retry health: critical",
		"Message-ID: <alert-2026-01-02-critical@evidence-console.invalid>",
		"multipart/alternative",
		"Content-Type: text/plain",
		"Content-Type: text/html",
	} {
		if !strings.Contains(message, want) {
			t.Errorf("message: want it to contain %q\n%s", want, message)
		}
	}
	if result.Request.BodyBytes == 0 {
		t.Errorf("Request.BodyBytes: got 0, want the message size")
	}
}

func TestEmailFailureClasses(t *testing.T) {
	tests := []struct {
		name         string
		configure    func(*smtpTestServer)
		password     string
		closed       bool
		timeout      time.Duration
		wantClass    Class
		wantStatus   int
		wantAttempts int
	}{
		{
			name:      "recipient rejected",
			configure: func(s *smtpTestServer) { s.rcptReply = "550 5.1.1 No such user" },
			wantClass: ClassClientError, wantStatus: 550, wantAttempts: 1,
		},
		{
			name:      "mailbox busy",
			configure: func(s *smtpTestServer) { s.rcptReply = "451 4.3.0 Try again later" },
			wantClass: ClassServerError, wantStatus: 451, wantAttempts: 2,
		},
		{
			name:      "authentication failed",
			configure: func(s *smtpTestServer) { s.username, s.password = "mailer", "the-right-password" },
			password:  "smtp-wrong-password-secret",
			wantClass: ClassAuthError, wantStatus: 535, wantAttempts: 1,
		},
		{
			name:      "no greeting",
			configure: func(s *smtpTestServer) { s.silent = true },
			timeout:   200 * time.Millisecond,
			wantClass: ClassTimeout, wantStatus: 0, wantAttempts: 2,
		},
		{
			name:      "connection refused",
			closed:    true,
			wantClass: ClassConnectionError, wantStatus: 0, wantAttempts: 2,
		},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			server := startSMTPServer(t, test.configure)
			port := server.port()
			if test.closed {
				_ = server.listener.Close()
			}
			config := emailConfig(port)
			env := map[string]string{}
			if test.password != "" {
				config.UsernameEnv, config.PasswordEnv = "SMTP_USER", "SMTP_PASSWORD"
				env["SMTP_USER"], env["SMTP_PASSWORD"] = "mailer", test.password
			}
			var logs bytes.Buffer
			registry := newTestRegistry(t, oneConnector("email", config), env, &logs)
			timeout := test.timeout
			if timeout == 0 {
				timeout = 5 * time.Second
			}

			result := registry.Send(context.Background(), "email", sampleMessage(), SendOptions{Retries: 1, Timeout: timeout})

			checkEqual(t, "Class", result.Class, test.wantClass)
			checkEqual(t, "StatusCode", result.StatusCode, test.wantStatus)
			checkEqual(t, "AttemptCount", result.AttemptCount, test.wantAttempts)
			if result.Error == "" {
				t.Errorf("Error: got empty, want a description")
			}
			encoded, _ := json.Marshal(result)
			if test.password != "" && (strings.Contains(string(encoded), test.password) || strings.Contains(logs.String(), test.password)) {
				t.Errorf("password leaked: result %s, logs %s", encoded, logs.String())
			}
		})
	}
}

func TestEmailConfigValidation(t *testing.T) {
	valid := emailConfig(25)
	tests := []struct {
		name      string
		change    func(*ConnectorConfig)
		wantField string
	}{
		{"missing host", func(c *ConnectorConfig) { c.SMTPHost = "" }, "smtp_host"},
		{"host with scheme", func(c *ConnectorConfig) { c.SMTPHost = "smtp://mail" }, "smtp_host"},
		{"bad port", func(c *ConnectorConfig) { c.SMTPPort = 70000 }, "smtp_port"},
		{"bad sender", func(c *ConnectorConfig) { c.From = "not an address" }, "from"},
		{"no recipients", func(c *ConnectorConfig) { c.To = nil }, "to"},
		{"bad recipient", func(c *ConnectorConfig) { c.To = []string{"ops"} }, "to"},
		{"username without password", func(c *ConnectorConfig) { c.UsernameEnv = "U" }, "password_env"},
		{"url on email", func(c *ConnectorConfig) { c.URLEnv = "U" }, "url_env"},
	}
	for _, test := range tests {
		config := valid
		config.To = append([]string(nil), valid.To...)
		test.change(&config)
		err := oneConnector("email", config).Validate()
		configErr, ok := err.(*ConfigError)
		if !ok || configErr.Field != test.wantField {
			t.Errorf("%s: got %v, want an error for field %q", test.name, err, test.wantField)
		}
	}
}

// A server that offers only PLAIN and LOGIN over a connection without TLS
// would receive the password in clear, so the send fails before it. That
// lasts until the settings change, so the failure is permanent.
func TestEmailWithoutTLSRejectsClearTextSignIn(t *testing.T) {
	server := startSMTPServer(t, func(s *smtpTestServer) {
		s.username, s.password = "mailer", "smtp-pa55word-secret"
		s.authMechanisms = "PLAIN LOGIN"
	})
	config := emailConfig(server.port())
	config.UsernameEnv, config.PasswordEnv = "SMTP_USER", "SMTP_PASSWORD"
	registry := newTestRegistry(t, oneConnector("email", config),
		map[string]string{"SMTP_USER": "mailer", "SMTP_PASSWORD": "smtp-pa55word-secret"}, nil)

	result := registry.Send(context.Background(), "email", sampleMessage(), SendOptions{Timeout: 5 * time.Second})

	if result.Success {
		t.Fatal("Success: got true, want false")
	}
	checkEqual(t, "Class", result.Class, ClassAuthError)
	if !strings.Contains(result.Error, "starttls") {
		t.Errorf("Error: got %q, want it to name starttls", result.Error)
	}
	if messages, _ := server.received(); len(messages) != 0 {
		t.Errorf("messages received: got %d, want 0", len(messages))
	}
}

// These failures last until the settings or the server's configuration
// change, so they are config_error, sent once, with the fix in the error.
func TestEmailConfigProblemsAtSend(t *testing.T) {
	serverTLS, trusted := selfSignedTLS(t)
	tests := []struct {
		name        string
		configure   func(*smtpTestServer)
		startTLS    bool
		credentials bool
		wantClass   Class
		wantStatus  int
		want        string
		notWant     string // "": not checked
	}{
		{
			name:        "no AUTH without STARTTLS",
			credentials: true,
			wantClass:   ClassConfigError,
			want:        "turn starttls on, enable AUTH on the server, or remove username_env and password_env",
		},
		{
			name:        "no AUTH after STARTTLS",
			configure:   func(s *smtpTestServer) { s.tlsConfig = serverTLS },
			startTLS:    true,
			credentials: true,
			wantClass:   ClassConfigError,
			want:        "enable AUTH on the server, or remove username_env and password_env",
			notWant:     "turn starttls on",
		},
		{
			name:      "STARTTLS required",
			configure: func(s *smtpTestServer) { s.mailReply = "530 5.7.0 Must issue a STARTTLS command first" },
			wantClass: ClassConfigError, wantStatus: 530,
			want: "turn starttls on by removing starttls: false",
		},
		{
			name:      "sign-in required without credentials",
			configure: func(s *smtpTestServer) { s.mailReply = "530 5.7.0 Authentication required" },
			wantClass: ClassConfigError, wantStatus: 530,
			want: "set username_env and password_env",
		},
		{
			// After the server accepted the credentials, a 530 reply is
			// about this account's rights, so it stays auth_error.
			name: "sign-in required with credentials",
			configure: func(s *smtpTestServer) {
				s.username, s.password = "mailer", "smtp-pa55word-secret"
				s.mailReply = "530 5.7.1 Client was not authenticated"
			},
			credentials: true,
			wantClass:   ClassAuthError, wantStatus: 530,
			want: "530",
		},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			server := startSMTPServer(t, test.configure)
			config := emailConfig(server.port())
			if test.startTLS {
				config.StartTLS = nil
			}
			env := map[string]string{}
			if test.credentials {
				config.UsernameEnv, config.PasswordEnv = "SMTP_USER", "SMTP_PASSWORD"
				env["SMTP_USER"], env["SMTP_PASSWORD"] = "mailer", "smtp-pa55word-secret"
			}
			registry := newTestRegistry(t, oneConnector("email", config), env, nil, WithSMTPRootCAs(trusted))

			result := registry.Send(context.Background(), "email", sampleMessage(), SendOptions{Retries: 1, Timeout: 5 * time.Second})

			checkEqual(t, "Class", result.Class, test.wantClass)
			checkEqual(t, "StatusCode", result.StatusCode, test.wantStatus)
			checkEqual(t, "AttemptCount", result.AttemptCount, 1)
			if !strings.Contains(result.Error, test.want) {
				t.Errorf("Error: got %q, want it to contain %q", result.Error, test.want)
			}
			if test.notWant != "" && strings.Contains(result.Error, test.notWant) {
				t.Errorf("Error: got %q, want it not to contain %q", result.Error, test.notWant)
			}
			if messages, _ := server.received(); len(messages) != 0 {
				t.Errorf("messages received: got %d, want 0", len(messages))
			}
		})
	}
}
