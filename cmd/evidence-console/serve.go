package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/releaseops/evidence-console/alerting"
	"github.com/releaseops/evidence-console/audit"
	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/delivery"
	"github.com/releaseops/evidence-console/evidence"
	"github.com/releaseops/evidence-console/executive"
	"github.com/releaseops/evidence-console/handlers"
	"github.com/releaseops/evidence-console/health"
	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/retry"
)

// serve runs the web server until ctx is cancelled, then shuts down
// gracefully.
func (a *app) serve(ctx context.Context) error {
	db, closeDatabase, err := a.openDatabase(ctx, a.cfg.Migrate)
	if err != nil {
		return err
	}
	var closeOnce sync.Once
	closeDB := func() { closeOnce.Do(closeDatabase) }
	defer closeDB()
	stopping := make(chan struct{})

	now := time.Now
	evidenceService := &evidence.Service{DB: db, Now: now, Logger: a.logger}
	if a.cfg.SampleData {
		loaded, err := evidenceService.LoadSampleIfEmpty(ctx)
		if err != nil {
			return err
		}
		if loaded {
			a.logger.Info("sample evidence loaded into the empty database; set SAMPLE_DATA=false to start empty")
		}
	}

	authConfig, err := a.authConfig(ctx, db, now)
	if err != nil {
		return err
	}

	registry, stopReceiver, err := a.startConnectors()
	if err != nil {
		return err
	}
	evidenceService.Secrets = registry.Redactor()
	var stopReceiverOnce sync.Once
	stopLocalReceiver := func() { stopReceiverOnce.Do(stopReceiver) }
	defer stopLocalReceiver()
	healthService := &health.Service{DB: db, Now: now, Secrets: registry.Redactor(), Logger: a.logger}
	alertService := &alerting.Service{
		DB: db, Health: healthService, Destinations: registry,
		Delivery:  &delivery.Service{DB: db, Sender: registry, Now: now, Logger: a.logger},
		PublicURL: a.cfg.PublicURL, Now: now, Logger: a.logger,
	}

	executiveService := &executive.Service{
		DB: db, Now: now, Destinations: registry, PublicURL: a.cfg.PublicURL, Logger: a.logger,
		Delivery: &delivery.Service{DB: db, Sender: registry, Now: now, Logger: a.logger},
	}

	retryService := a.retryService(db, registry, now, retry.MessageSourceFunc(executiveService.ExecutiveMessage))
	// Failed alert deliveries are re-sent with the alert message they carried.
	retryService.Sources[models.SubjectHealthAlert] = retry.MessageSourceFunc(alertService.AlertMessage)

	auditService := &audit.Service{DB: db, Now: now, Logger: a.logger, Secrets: registry.Redactor()}
	compactionCtx, stopCompaction := context.WithCancel(ctx)
	defer stopCompaction()
	go auditService.RunCompaction(compactionCtx, 30*time.Second)

	h := &handlers.Handler{
		Health:    healthService,
		Evidence:  evidenceService,
		Alerts:    alertService,
		Executive: executiveService,
		Retry:     retryService,
		Audit:     auditService,
		Secrets:   registry.Redactor(),
		Auth:      authConfig,
		Ready:     func(ctx context.Context) error { return models.Ping(ctx, db) },
		TimeZone:  a.cfg.TimeZone,
		PublicURL: a.cfg.PublicURL,
		Logger:    a.logger,
		Now:       now,
		Stopping:  stopping,
	}
	server := &http.Server{
		Addr:              a.cfg.ListenAddr,
		Handler:           handlers.NewServer(h),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
	}

	// Bind before announcing, so a taken port fails start-up without a
	// misleading "server started" line.
	listener, err := net.Listen("tcp", a.cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("LISTEN_ADDR %s: %w", a.cfg.ListenAddr, err)
	}
	failed := make(chan error, 1)
	go func() {
		a.logger.Info("server started", "listen_addr", a.cfg.ListenAddr, "console", a.cfg.PublicURL+"/console", "database", string(models.DialectOf(db)))
		if err := server.Serve(listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			failed <- fmt.Errorf("server on %s stopped: %w", a.cfg.ListenAddr, err)
		}
		close(failed)
	}()

	select {
	case err := <-failed:
		return err
	case <-ctx.Done():
	}

	// A live retry run or a delivery may send for minutes. Stopping in the
	// middle leaves its outcomes unrecorded until the next live run records
	// them as interrupted, so the server waits for requests under way,
	// unless it receives a second stop signal.
	a.logger.Info("server stopping; waiting for requests under way, interrupt again to stop now", "wait_at_most", shutdownGrace)
	again := make(chan os.Signal, 1)
	signal.Notify(again, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(again)
	if err := shutdown(server, shutdownGrace, again); err != nil {
		// Requests still under way fail once the database is closed. They
		// get a moment to respond with a 503 stating that the server stopped,
		// instead of a dropped connection. Stopping the local receiver ends
		// sends to it at once. A send to a real destination that takes
		// longer than the moment has its connection closed.
		close(stopping)
		closeDB()
		stopLocalReceiver()
		answered, cancel := context.WithTimeout(context.Background(), stoppedResponseWait)
		defer cancel()
		if server.Shutdown(answered) != nil {
			_ = server.Close()
		}
		return err
	}
	a.logger.Info("server stopped")
	return nil
}

// shutdown stops server once its requests under way have finished, waiting
// at most grace, or until a second stop signal arrives on again.
func shutdown(server *http.Server, grace time.Duration, again <-chan os.Signal) error {
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	go func() {
		select {
		case <-again:
			cancel()
		case <-ctx.Done():
		}
	}()
	if err := server.Shutdown(ctx); err != nil {
		return fmt.Errorf("graceful shutdown: %w; the next live retry run records any retry left in flight as interrupted", err)
	}
	return nil
}

// stoppedResponseWait is how long a server that stops without waiting gives
// its requests under way to respond that it stopped.
const stoppedResponseWait = 3 * time.Second

// shutdownGrace is how long a stopping server waits for requests under way:
// the longest of a live retry run and an alert send with the largest send
// options that first waits for another send of the same alert, plus a
// minute for recording.
var shutdownGrace = max(retry.DefaultInFlightTimeout, longestSend+alerting.MaxLeaseWait) + time.Minute

// longestSend is how long one delivery with the largest send options that
// a request may choose can take.
var longestSend = connectors.SendOptions{
	Retries: connectors.MaxRetries, Timeout: time.Duration(alerting.MaxTimeoutSeconds * float64(time.Second)),
}.MaxDuration()
