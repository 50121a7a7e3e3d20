package connectors

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"
)

// selfSignedTLS returns a server configuration with a new self-signed
// certificate for 127.0.0.1, and a pool that trusts it.
func selfSignedTLS(t *testing.T) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("generate key: %v", err)
	}
	template := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "smtp test server"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:         true,

		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("create certificate: %v", err)
	}
	certificate, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("parse certificate: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(certificate)
	return &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
		MinVersion:   tls.VersionTLS12,
	}, pool
}

// startTLSConfig is emailConfig with STARTTLS left at its default: required.
func startTLSConfig(port int) ConnectorConfig {
	cfg := emailConfig(port)
	cfg.StartTLS = nil
	return cfg
}

func TestEmailSendsAfterStartTLS(t *testing.T) {
	serverTLS, trusted := selfSignedTLS(t)
	server := startSMTPServer(t, func(s *smtpTestServer) {
		s.tlsConfig = serverTLS
		s.username, s.password = "mailer", "smtp-pa55word-secret"
	})
	env := map[string]string{"SMTP_USER": "mailer", "SMTP_PASS": "smtp-pa55word-secret"}
	cfg := startTLSConfig(server.port())
	cfg.UsernameEnv, cfg.PasswordEnv = "SMTP_USER", "SMTP_PASS"
	registry := newTestRegistry(t, oneConnector("email", cfg), env, nil, WithSMTPRootCAs(trusted))

	result := registry.Send(context.Background(), "email", sampleMessage(), SendOptions{Timeout: 5 * time.Second})

	if !result.Success {
		t.Fatalf("send: got class %s error %q, want success", result.Class, result.Error)
	}
	server.mu.Lock()
	defer server.mu.Unlock()
	if len(server.messages) != 1 || server.tlsMessages != 1 {
		t.Errorf("messages: got %d, %d of them over TLS, want 1 over TLS", len(server.messages), server.tlsMessages)
	}
	if server.authAttempts != 1 {
		t.Errorf("AUTH attempts: got %d, want 1 after the upgrade", server.authAttempts)
	}
}

func TestEmailRequiresStartTLS(t *testing.T) {
	serverTLS, _ := selfSignedTLS(t)
	tests := []struct {
		name      string
		tlsConfig *tls.Config // nil: the server does not offer STARTTLS
		want      string
		wantClass Class // empty: not checked
	}{
		// A server without STARTTLS stays so until its settings change, so
		// the failure is not retried.
		{"server without STARTTLS", nil, "STARTTLS", ClassConfigError},
		{"certificate of an unknown authority", serverTLS, "certificate", ""},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			server := startSMTPServer(t, func(s *smtpTestServer) {
				s.tlsConfig = test.tlsConfig
				s.username, s.password = "mailer", "smtp-pa55word-secret"
			})
			env := map[string]string{"SMTP_USER": "mailer", "SMTP_PASS": "smtp-pa55word-secret"}
			cfg := startTLSConfig(server.port())
			cfg.UsernameEnv, cfg.PasswordEnv = "SMTP_USER", "SMTP_PASS"
			registry := newTestRegistry(t, oneConnector("email", cfg), env, nil)

			result := registry.Send(context.Background(), "email", sampleMessage(), SendOptions{Timeout: 5 * time.Second})

			if result.Success {
				t.Fatal("send: got success, want a failure")
			}
			if test.wantClass != "" && result.Class != test.wantClass {
				t.Errorf("class: got %s, want %s", result.Class, test.wantClass)
			}
			if !strings.Contains(result.Error, test.want) {
				t.Errorf("error: got %q, want it to mention %s", result.Error, test.want)
			}
			if strings.Contains(result.Error, "smtp-pa55word-secret") {
				t.Errorf("error %q contains the password", result.Error)
			}
			// The server reads until the client closes the connection.
			deadline := time.Now().Add(2 * time.Second)
			for server.open.Load() > 0 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if n := server.open.Load(); n != 0 {
				t.Errorf("open connections after the send: got %d, want 0", n)
			}
			server.mu.Lock()
			defer server.mu.Unlock()
			if len(server.messages) != 0 || server.authAttempts != 0 {
				t.Errorf("server: got %d messages and %d AUTH attempts, want none", len(server.messages), server.authAttempts)
			}
		})
	}
}

// With STARTTLS on, a server that offers no method the client supports
// fails as auth_error with advice for the server, not for starttls.
func TestEmailAfterStartTLSWithoutSupportedSignIn(t *testing.T) {
	serverTLS, trusted := selfSignedTLS(t)
	server := startSMTPServer(t, func(s *smtpTestServer) {
		s.tlsConfig = serverTLS
		s.username, s.password = "mailer", "smtp-pa55word-secret"
		s.authMechanisms = "XOAUTH2"
	})
	env := map[string]string{"SMTP_USER": "mailer", "SMTP_PASS": "smtp-pa55word-secret"}
	cfg := startTLSConfig(server.port())
	cfg.UsernameEnv, cfg.PasswordEnv = "SMTP_USER", "SMTP_PASS"
	registry := newTestRegistry(t, oneConnector("email", cfg), env, nil, WithSMTPRootCAs(trusted))

	result := registry.Send(context.Background(), "email", sampleMessage(), SendOptions{Timeout: 5 * time.Second})

	checkEqual(t, "Class", result.Class, ClassAuthError)
	if strings.Contains(result.Error, "turn starttls on") {
		t.Errorf("Error: got %q, want no advice to turn starttls on, which it is", result.Error)
	}
	if !strings.Contains(result.Error, "enable one of them on the server") {
		t.Errorf("Error: got %q, want advice for the server", result.Error)
	}
}

// implicitTLSConfig is emailConfig with implicit_tls: true and starttls unset.
func implicitTLSConfig(port int) ConnectorConfig {
	cfg := emailConfig(port)
	cfg.StartTLS = nil
	implicit := true
	cfg.ImplicitTLS = &implicit
	return cfg
}

// Over implicit TLS the client may sign in with PLAIN, which sends the
// password itself, because the connection is encrypted.
func TestEmailSendsOverImplicitTLS(t *testing.T) {
	serverTLS, trusted := selfSignedTLS(t)
	server := startSMTPServer(t, func(s *smtpTestServer) {
		s.tlsConfig, s.implicitTLS = serverTLS, true
		s.username, s.password = "mailer", "smtp-pa55word-secret"
		s.authMechanisms = "PLAIN LOGIN"
	})
	env := map[string]string{"SMTP_USER": "mailer", "SMTP_PASS": "smtp-pa55word-secret"}
	cfg := implicitTLSConfig(server.port())
	cfg.UsernameEnv, cfg.PasswordEnv = "SMTP_USER", "SMTP_PASS"
	registry := newTestRegistry(t, oneConnector("email", cfg), env, nil, WithSMTPRootCAs(trusted))

	result := registry.Send(context.Background(), "email", sampleMessage(), SendOptions{Timeout: 5 * time.Second})

	if !result.Success {
		t.Fatalf("send: got class %s error %q, want success", result.Class, result.Error)
	}
	server.mu.Lock()
	defer server.mu.Unlock()
	if len(server.messages) != 1 || server.tlsMessages != 1 {
		t.Errorf("messages: got %d, %d of them over TLS, want 1 over TLS", len(server.messages), server.tlsMessages)
	}
	if server.authAttempts != 1 {
		t.Errorf("AUTH attempts: got %d, want 1", server.authAttempts)
	}
}

func TestEmailImplicitTLSFailures(t *testing.T) {
	serverTLS, _ := selfSignedTLS(t)
	tests := []struct {
		name      string
		configure func(*smtpTestServer)
		want      string
		wantClass Class
	}{
		// A plain server responds to the TLS handshake with its greeting.
		// That lasts until the server or the settings change.
		{"server without implicit TLS", nil, "set implicit_tls: false", ClassConfigError},
		{
			"certificate of an unknown authority",
			func(s *smtpTestServer) { s.tlsConfig, s.implicitTLS = serverTLS, true },
			"certificate", ClassConnectionError,
		},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			server := startSMTPServer(t, func(s *smtpTestServer) {
				s.username, s.password = "mailer", "smtp-pa55word-secret"
				if test.configure != nil {
					test.configure(s)
				}
			})
			env := map[string]string{"SMTP_USER": "mailer", "SMTP_PASS": "smtp-pa55word-secret"}
			cfg := implicitTLSConfig(server.port())
			cfg.UsernameEnv, cfg.PasswordEnv = "SMTP_USER", "SMTP_PASS"
			registry := newTestRegistry(t, oneConnector("email", cfg), env, nil)

			result := registry.Send(context.Background(), "email", sampleMessage(), SendOptions{Timeout: 5 * time.Second})

			checkEqual(t, "Class", result.Class, test.wantClass)
			if !strings.Contains(result.Error, test.want) {
				t.Errorf("Error: got %q, want it to contain %q", result.Error, test.want)
			}
			deadline := time.Now().Add(2 * time.Second)
			for server.open.Load() > 0 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if n := server.open.Load(); n != 0 {
				t.Errorf("open connections after the send: got %d, want 0", n)
			}
			server.mu.Lock()
			defer server.mu.Unlock()
			if len(server.messages) != 0 || server.authAttempts != 0 {
				t.Errorf("server: got %d messages and %d AUTH attempts, want none", len(server.messages), server.authAttempts)
			}
		})
	}
}

func TestEmailImplicitTLSSettings(t *testing.T) {
	on, off := true, false
	tests := []struct {
		name         string
		port         int
		implicitTLS  *bool
		startTLS     *bool
		wantField    string // "": valid
		wantImplicit bool
		wantHost     string
	}{
		{"default port", 0, nil, nil, "", false, "127.0.0.1:587"},
		{"port 465", 465, nil, nil, "", true, "127.0.0.1:465"},
		{"implicit_tls without port", 0, &on, nil, "", true, "127.0.0.1:465"},
		{"implicit_tls on another port", 2465, &on, nil, "", true, "127.0.0.1:2465"},
		{"port 465 with STARTTLS", 465, &off, &on, "", false, "127.0.0.1:465"},
		{"port 465 with starttls true", 465, nil, &on, "starttls", false, ""},
		{"port 465 with starttls false", 465, nil, &off, "starttls", false, ""},
		{"implicit_tls with starttls", 587, &on, &on, "starttls", false, ""},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			cfg := emailConfig(test.port)
			cfg.ImplicitTLS, cfg.StartTLS = test.implicitTLS, test.startTLS
			err := oneConnector("email", cfg).Validate()

			if test.wantField != "" {
				configErr, ok := err.(*ConfigError)
				if !ok || configErr.Field != test.wantField {
					t.Fatalf("Validate: got %v, want an error for field %q", err, test.wantField)
				}
				if !strings.Contains(configErr.Problem, "implicit") {
					t.Errorf("Problem: got %q, want it to name implicit TLS", configErr.Problem)
				}
				return
			}
			if err != nil {
				t.Fatalf("Validate: got %v, want nil", err)
			}
			checkEqual(t, "implicit TLS", smtpImplicitTLS(cfg), test.wantImplicit)
			registry := newTestRegistry(t, oneConnector("email", cfg), nil, nil)
			status, _ := registry.Status("email")
			checkEqual(t, "Host", status.Host, test.wantHost)
		})
	}
}

func TestEmailImplicitTLSFieldOnlyForEmail(t *testing.T) {
	valid := "connectors:\n  email:\n    smtp_host: smtp.example.test\n    implicit_tls: true\n    from: a@example.test\n    to: [b@example.test]\n"
	if _, err := ParseConfig([]byte(valid), "yaml"); err != nil {
		t.Errorf("ParseConfig with implicit_tls on email: got %v, want nil", err)
	}

	other := "connectors:\n  slack:\n    url_env: SLACK_WEBHOOK_URL\n    implicit_tls: true\n"
	_, err := ParseConfig([]byte(other), "yaml")
	var configErr *ConfigError
	if !errors.As(err, &configErr) || configErr.Field != "implicit_tls" {
		t.Errorf("ParseConfig with implicit_tls on slack: got %v, want an error for field implicit_tls", err)
	}
}
