package config

import (
	"bytes"
	"flag"
	"io"
	"log/slog"
	"strings"
	"testing"
)

func envOf(values map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		value, ok := values[name]
		return value, ok
	}
}

// load reads settings from env and the flags at the start of args, and
// returns the arguments after the flags.
func load(args []string, env map[string]string) (Config, []string, error) {
	settings := NewSettings(envOf(env))
	flags := flag.NewFlagSet("evidence-console", flag.ContinueOnError)
	flags.SetOutput(io.Discard)
	settings.AddFlags(flags)
	if err := flags.Parse(args); err != nil {
		return Config{}, nil, err
	}
	cfg, err := settings.Config()
	return cfg, flags.Args(), err
}

func TestLoadDefaults(t *testing.T) {
	cfg, rest, err := load(nil, nil)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if cfg.ListenAddr != "127.0.0.1:8080" {
		t.Errorf("ListenAddr = %q, want 127.0.0.1:8080", cfg.ListenAddr)
	}
	if cfg.PublicURL != "http://127.0.0.1:8080" {
		t.Errorf("PublicURL = %q, want http://127.0.0.1:8080", cfg.PublicURL)
	}
	if cfg.TimeZone.String() != "UTC" || cfg.LogLevel != slog.LevelInfo || cfg.LogFormat != "text" {
		t.Errorf("zone/level/format = %s/%s/%s, want UTC/INFO/text", cfg.TimeZone, cfg.LogLevel, cfg.LogFormat)
	}
	if !cfg.SampleData || !cfg.Migrate {
		t.Errorf("SampleData = %v, Migrate = %v; want both true", cfg.SampleData, cfg.Migrate)
	}
	if cfg.DatabaseURL != "" {
		t.Errorf("DatabaseURL = %q, want empty (embedded SQLite)", cfg.DatabaseURL)
	}
	if len(rest) != 0 {
		t.Errorf("remaining arguments = %v, want none", rest)
	}
}

func TestLoadFlagOverridesEnvironment(t *testing.T) {
	env := map[string]string{"LISTEN_ADDR": "127.0.0.1:9000", "TIME_ZONE": "Europe/Berlin"}
	cfg, rest, err := load([]string{"--listen-addr", "127.0.0.1:9100", "import", "file.json"}, env)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if cfg.ListenAddr != "127.0.0.1:9100" {
		t.Errorf("ListenAddr = %q, want the flag's 127.0.0.1:9100", cfg.ListenAddr)
	}
	if cfg.TimeZone.String() != "Europe/Berlin" {
		t.Errorf("TimeZone = %s, want Europe/Berlin from the environment", cfg.TimeZone)
	}
	if strings.Join(rest, " ") != "import file.json" {
		t.Errorf("remaining arguments = %v, want [import file.json]", rest)
	}
}

func TestLoadRejectsInvalidSettings(t *testing.T) {
	// These would complete a PostgreSQL URL that lacks a host or database.
	for _, name := range []string{"PGSERVICE", "PGHOST", "PGDATABASE"} {
		t.Setenv(name, "")
	}
	cases := []struct {
		env     map[string]string
		setting string
	}{
		{map[string]string{"DATABASE_URL": "mysql://root@localhost/db"}, "DATABASE_URL"},
		{map[string]string{"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/?sslmode=disable"}, "DATABASE_URL"},
		{map[string]string{"DATABASE_URL": "postgres://"}, "DATABASE_URL"},
		{map[string]string{"DATABASE_URL": "postgresql:///evidence"}, "DATABASE_URL"},
		{map[string]string{"DATABASE_URL": "postgres://app:planted-secret@db.example.invalid"}, "DATABASE_URL"},
		{map[string]string{"DATABASE_URL": "postgres://app:planted%zzsecret@db.example.invalid/evidence"}, "DATABASE_URL"},
		{map[string]string{"DATABASE_URL": "host=127.0.0.1 user=postgres dbname=evidence password=planted-secret"}, "DATABASE_URL"},
		{map[string]string{"LISTEN_ADDR": "8080"}, "LISTEN_ADDR"},
		{map[string]string{"PUBLIC_URL": "ftp://example.invalid"}, "PUBLIC_URL"},
		{map[string]string{"PUBLIC_URL": "https://ops:planted-secret@console.example.invalid"}, "PUBLIC_URL"},
		{map[string]string{"PUBLIC_URL": "https://console.example.invalid/?token=planted-secret"}, "PUBLIC_URL"},
		{map[string]string{"PUBLIC_URL": "https://console.example.invalid/#access_token=planted-secret"}, "PUBLIC_URL"},
		{map[string]string{"PUBLIC_URL": "https://console.example.invalid/%3Ftoken=planted-secret"}, "PUBLIC_URL"},
		{map[string]string{"PUBLIC_URL": "https://console.example.invalid/;token=planted-secret"}, "PUBLIC_URL"},
		{map[string]string{"PUBLIC_URL": "https://console.example.invalid/xoxb-123456789012-planted-secret"}, "PUBLIC_URL"},
		{map[string]string{"TIME_ZONE": "Mars/Olympus"}, "TIME_ZONE"},
		{map[string]string{"LOG_LEVEL": "loud"}, "LOG_LEVEL"},
		{map[string]string{"LOG_FORMAT": "xml"}, "LOG_FORMAT"},
		{map[string]string{"SAMPLE_DATA": "maybe"}, "SAMPLE_DATA"},
		{map[string]string{"AUTO_MIGRATE": "yes please"}, "AUTO_MIGRATE"},
		{map[string]string{"LOCAL_RECEIVER": "nowhere"}, "LOCAL_RECEIVER"},
		{map[string]string{"LISTEN_ADDR": "999.1.1.1:80"}, "LISTEN_ADDR"},
		{map[string]string{"LISTEN_ADDR": "127.0.0.1:0"}, "LISTEN_ADDR"},
		{map[string]string{"LISTEN_ADDR": "127.0.0.1:65536"}, "LISTEN_ADDR"},
		{map[string]string{"LISTEN_ADDR": "127.0.0.1:http"}, "LISTEN_ADDR"},
		{map[string]string{"LISTEN_ADDR": "bad host:8080"}, "LISTEN_ADDR"},
		{map[string]string{"LISTEN_ADDR": "-console:8080"}, "LISTEN_ADDR"},
		{map[string]string{"LOCAL_RECEIVER": "127.0.0.1:+8090"}, "LOCAL_RECEIVER"},
		{map[string]string{"LOCAL_RECEIVER": "256.0.0.1:8090"}, "LOCAL_RECEIVER"},
	}
	for _, c := range cases {
		_, _, err := load(nil, c.env)
		if err == nil {
			t.Errorf("%v: loading succeeded, want an error naming %s", c.env, c.setting)
			continue
		}
		if !strings.HasPrefix(err.Error(), c.setting+":") {
			t.Errorf("%v: error %q does not start with the setting %s", c.env, err, c.setting)
		}
		if strings.Contains(err.Error(), "planted-secret") {
			t.Errorf("%v: error %q repeats the secret", c.env, err)
		}
	}
}

func TestLoadAcceptsPostgresURL(t *testing.T) {
	cases := map[string]string{
		"postgres://postgres@127.0.0.1:5432/evidence?sslmode=disable": "postgres://postgres@127.0.0.1:5432/evidence?sslmode=disable",
		"Postgres://postgres@127.0.0.1:5432/evidence":                 "postgres://postgres@127.0.0.1:5432/evidence",
		"POSTGRESQL://postgres@db.example.invalid/evidence":           "postgresql://postgres@db.example.invalid/evidence",
		"postgres:///evidence?host=/var/run/postgresql":               "postgres:///evidence?host=/var/run/postgresql",
		"postgres://postgres@127.0.0.1:5432?dbname=evidence":          "postgres://postgres@127.0.0.1:5432?dbname=evidence",
		"data/other.db": "data/other.db",
	}
	for value, want := range cases {
		cfg, _, err := load(nil, map[string]string{"DATABASE_URL": value})
		if err != nil {
			t.Errorf("Load with DATABASE_URL %s: %v", value, err)
			continue
		}
		if cfg.DatabaseURL != want {
			t.Errorf("DatabaseURL for %s: got %s, want %s", value, cfg.DatabaseURL, want)
		}
	}
}

// A connection service or the PGHOST and PGDATABASE environment variables
// can give the host and database a URL leaves out.
func TestLoadAcceptsPostgresURLCompletedElsewhere(t *testing.T) {
	for _, value := range []string{"postgres:///?service=evidence", "postgresql://?service=evidence", "postgres://h/?database=evidence"} {
		if _, _, err := load(nil, map[string]string{"DATABASE_URL": value}); err != nil {
			t.Errorf("Load with DATABASE_URL %s: %v", value, err)
		}
	}
	t.Setenv("PGHOST", "127.0.0.1")
	t.Setenv("PGDATABASE", "evidence")
	if _, _, err := load(nil, map[string]string{"DATABASE_URL": "postgres://"}); err != nil {
		t.Errorf("Load with DATABASE_URL postgres:// and PGHOST and PGDATABASE set: %v", err)
	}
}

func TestLoadAcceptsListenAddresses(t *testing.T) {
	for _, address := range []string{"127.0.0.1:8080", ":8080", "0.0.0.0:80", "[::1]:8080", "localhost:65535", "console.internal:8080", "console_1:8080"} {
		env := map[string]string{"LISTEN_ADDR": address, "LOCAL_RECEIVER": address, "PUBLIC_URL": "http://console.example.invalid"}
		if _, _, err := load(nil, env); err != nil {
			t.Errorf("LISTEN_ADDR and LOCAL_RECEIVER %q: %v, want accepted", address, err)
		}
	}
}

func TestWildcardListenAddressNeedsPublicURL(t *testing.T) {
	for _, address := range []string{":8080", "0.0.0.0:8080", "[::]:8080"} {
		_, _, err := load(nil, map[string]string{"LISTEN_ADDR": address})
		if err == nil || !strings.HasPrefix(err.Error(), "PUBLIC_URL:") {
			t.Errorf("LISTEN_ADDR %q without PUBLIC_URL: got %v, want an error naming PUBLIC_URL", address, err)
		}
	}
	cfg, _, err := load(nil, map[string]string{"LISTEN_ADDR": "127.0.0.1:8080"})
	if err != nil {
		t.Fatalf("loopback LISTEN_ADDR without PUBLIC_URL: %v", err)
	}
	if cfg.PublicURL != "http://127.0.0.1:8080" {
		t.Errorf("PublicURL: got %q, want http://127.0.0.1:8080", cfg.PublicURL)
	}
}

func TestSettingsLastFlagWins(t *testing.T) {
	settings := NewSettings(envOf(map[string]string{"LISTEN_ADDR": "127.0.0.1:9000"}))
	before := flag.NewFlagSet("evidence-console", flag.ContinueOnError)
	after := flag.NewFlagSet("migrate", flag.ContinueOnError)
	settings.AddFlags(before)
	settings.AddFlags(after)

	if err := before.Parse([]string{"--listen-addr", "127.0.0.1:9100", "--time-zone", "Europe/Berlin", "migrate"}); err != nil {
		t.Fatalf("parse the flags before the command: %v", err)
	}
	if err := after.Parse([]string{"--listen-addr", "127.0.0.1:9200"}); err != nil {
		t.Fatalf("parse the flags after the command: %v", err)
	}
	cfg, err := settings.Config()
	if err != nil {
		t.Fatalf("Config: %v", err)
	}
	if cfg.ListenAddr != "127.0.0.1:9200" {
		t.Errorf("ListenAddr = %q, want 127.0.0.1:9200 from the flag parsed last", cfg.ListenAddr)
	}
	if cfg.TimeZone.String() != "Europe/Berlin" {
		t.Errorf("TimeZone = %s, want Europe/Berlin from the flag before the command", cfg.TimeZone)
	}
}

func TestUsageAlignsEveryRow(t *testing.T) {
	var output bytes.Buffer
	Usage(&output)
	lines := strings.Split(strings.TrimRight(output.String(), "\n"), "\n")
	rows := lines[1:]
	if len(rows) != len(settings) {
		t.Fatalf("Usage wrote %d rows, want one per setting (%d):\n%s", len(rows), len(settings), output.String())
	}

	// columnStarts returns where the flag, default and meaning of a row begin.
	columnStarts := func(row string, s setting) [3]int {
		flagStart := strings.Index(row, " --"+s.flag+" ") + 1
		flagEnd := flagStart + len("--"+s.flag)
		defaultStart := flagEnd + len(row[flagEnd:]) - len(strings.TrimLeft(row[flagEnd:], " "))
		return [3]int{flagStart, defaultStart, strings.Index(row, s.help)}
	}
	want := columnStarts(rows[0], settings[0])
	for i, s := range settings {
		got := columnStarts(rows[i], s)
		if got != want {
			t.Errorf("row %s: flag, default and meaning start at %v, want %v like the first row:\n%s", s.env, got, want, rows[i])
		}
		if !strings.HasPrefix(rows[i], "  "+s.env+" ") {
			t.Errorf("row %d = %q, want it to start with %s", i, rows[i], s.env)
		}
	}
}
