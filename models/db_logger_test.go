package models

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestCancelledStatementLoggedAsInfo(t *testing.T) {
	var logs bytes.Buffer
	log := newGormLogger(slog.New(slog.NewTextHandler(&logs, nil)), time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	sql := func() (string, int64) { return "SELECT 1", 0 }

	log.Trace(ctx, time.Now(), sql, errors.New("interrupted (9)"))

	if !strings.Contains(logs.String(), "level=INFO") || !strings.Contains(logs.String(), "database statement cancelled") {
		t.Errorf("cancelled statement: got log %q, want an info line", logs.String())
	}

	logs.Reset()
	expired, stop := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer stop()
	log.Trace(expired, time.Now(), sql, errors.New("context deadline exceeded"))

	if !strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("timed-out statement: got log %q, want an error line", logs.String())
	}

	logs.Reset()
	log.Trace(context.Background(), time.Now(), sql, errors.New("disk I/O error"))

	if !strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("failed statement: got log %q, want an error line", logs.String())
	}
}
