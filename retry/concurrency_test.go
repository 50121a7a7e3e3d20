package retry

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/connectors/receiver"
	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
)

// Environment of the helper process that TestHelperWorkerProcess becomes
// when the test binary re-executes itself.
const (
	helperModeEnv     = "RETRY_TEST_HELPER_MODE" // "worker", "crash", "hang" or "busy"
	helperDatabaseEnv = "RETRY_TEST_DATABASE_URL"
	helperReceiverEnv = "RETRY_TEST_RECEIVER_URL"
	helperStartAtEnv  = "RETRY_TEST_START_AT" // Unix nanoseconds to wait for
	crashExitCode     = 3
)

// crashingSender sends, then ends the process before the outcome is
// recorded, as a worker killed between send and record would.
type crashingSender struct{ inner connectors.Sender }

func (s crashingSender) Send(ctx context.Context, name string, msg connectors.Message, opts connectors.SendOptions) connectors.Result {
	s.inner.Send(ctx, name, msg, opts)
	os.Exit(crashExitCode)
	return connectors.Result{}
}

// TestHelperWorkerProcess is not a test of its own: it runs one live worker
// run in a child process started by the tests below, and is skipped
// otherwise.
func TestHelperWorkerProcess(t *testing.T) {
	mode := os.Getenv(helperModeEnv)
	if mode == "" {
		t.Skip("runs only as a helper process")
	}
	db := dbtest.OpenExisting(t, os.Getenv(helperDatabaseEnv), dbtest.Options{})
	paths := map[string]string{"webhook": "/webhook/exec"}
	if mode == "hang" {
		paths["webhook"] = "/hang/webhook"
	}
	service := newTestService(db, webhookRegistry(t, os.Getenv(helperReceiverEnv), paths), time.Now, &fakeSource{})
	service.Concurrency = 2
	switch mode {
	case "crash":
		service.Delivery.Sender = crashingSender{inner: service.Delivery.Sender}
		service.Concurrency = 1
		// One at a time, 25 sends of up to 2 s would not leave the run
		// a fifth of the one-minute in-flight timeout to record.
		service.SendOptions.Timeout = time.Second
	case "hang":
		// The parent kills this process while the receiver holds the request.
		// The in-flight timeout only has to outlast the run's sends here.
		service.SendOptions.Timeout = time.Minute
		service.InFlightTimeout = time.Hour
		service.Concurrency = 1
	case "busy":
		// The parent holds the selection lock for the whole run.
		service.SelectionLockWait = 300 * time.Millisecond
	}
	if startAt, err := strconv.ParseInt(os.Getenv(helperStartAtEnv), 10, 64); err == nil {
		time.Sleep(time.Until(time.Unix(0, startAt)))
	}

	request := liveRequest(immediatePolicy())
	request.MaxRetryDeliveries = MaxRetryDeliveriesLimit
	run, err := service.Run(context.Background(), models.SubjectExecutiveReport, request)
	if mode == "busy" {
		var busy *BusyError
		if !errors.As(err, &busy) {
			t.Fatalf("helper Run while the parent holds the selection lock: got %v, want a BusyError", err)
		}
		fmt.Printf("helper busy: %s\n", busy.Message)
		return
	}
	if err != nil {
		t.Fatalf("helper Run: %v", err)
	}
	fmt.Printf("helper run %s: delivered %d skipped %d failed %d\n", run.WorkerRunID, run.Counts.DeliveredCount, run.Counts.SkippedCount, run.Counts.FailedCount)
}

func helperCommand(t *testing.T, mode, databaseURL, receiverURL string, startAt time.Time) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperWorkerProcess$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(),
		helperModeEnv+"="+mode, helperDatabaseEnv+"="+databaseURL, helperReceiverEnv+"="+receiverURL,
		helperStartAtEnv+"="+strconv.FormatInt(startAt.UnixNano(), 10))
	return cmd
}

func TestConcurrentWorkersExecuteEachRetryOnce(t *testing.T) {
	db, databaseURL := dbtest.OpenURL(t, dbtest.Options{})
	server := startReceiver(t)
	now := time.Now().Add(-time.Hour)
	const groups = 8
	for i := range groups {
		insertDelivery(t, db, fmt.Sprintf("run_%02d", i), "webhook", false, "server_error", 503, now, nil)
	}

	// Two child processes and one more connection pool in this process start
	// at the same moment against the same due retries.
	startAt := time.Now().Add(1500 * time.Millisecond)
	var outputs [2]strings.Builder
	var commands []*exec.Cmd
	for i := range outputs {
		cmd := helperCommand(t, "worker", databaseURL, server.URL, startAt)
		cmd.Stdout, cmd.Stderr = &outputs[i], &outputs[i]
		if err := cmd.Start(); err != nil {
			t.Fatalf("start helper %d: %v", i, err)
		}
		commands = append(commands, cmd)
	}
	otherPool := dbtest.OpenExisting(t, databaseURL, dbtest.Options{})
	local := newTestService(otherPool, webhookRegistry(t, server.URL, map[string]string{"webhook": "/webhook/exec"}), time.Now, &fakeSource{})
	var wg sync.WaitGroup
	var localErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		time.Sleep(time.Until(startAt))
		request := liveRequest(immediatePolicy())
		request.MaxRetryDeliveries = MaxRetryDeliveriesLimit
		_, localErr = local.Run(context.Background(), models.SubjectExecutiveReport, request)
	}()
	for i, cmd := range commands {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("helper %d: %v\n%s", i, err, outputs[i].String())
		}
	}
	wg.Wait()
	for i := range outputs {
		for _, line := range strings.Split(outputs[i].String(), "\n") {
			if strings.HasPrefix(line, "helper run") {
				t.Logf("process %d: %s", i, line)
			}
		}
	}
	if localErr != nil {
		t.Fatalf("in-process Run: %v", localErr)
	}

	keys := receivedKeys(server)
	if len(keys) != groups {
		t.Errorf("distinct idempotency keys received: got %d, want %d (%v)", len(keys), groups, keys)
	}
	for key, n := range keys {
		if n != 1 {
			t.Errorf("requests with idempotency key %q: got %d, want 1", key, n)
		}
	}
	var delivered, inFlight int64
	if err := db.Model(&models.RetryExecution{}).Where("outcome = ?", models.ExecutionDelivered).Count(&delivered).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Model(&models.RetryExecution{}).Where("outcome = ?", models.ExecutionInFlight).Count(&inFlight).Error; err != nil {
		t.Fatal(err)
	}
	if delivered != groups || inFlight != 0 {
		t.Errorf("executions: got %d delivered and %d in flight, want %d and 0", delivered, inFlight, groups)
	}
	// The selection lock spans processes on both databases, so a run that
	// starts while another claims selects only what that run left. No run
	// selects a retry that another one claimed, and none records a skip.
	var skips []models.RetryExecution
	if err := db.Where("outcome = ?", models.ExecutionSkipped).Find(&skips).Error; err != nil {
		t.Fatal(err)
	}
	for _, skip := range skips {
		t.Errorf("skipped execution %s of worker run %s: reason %q, want no skip", skip.ID, skip.WorkerRunID, skip.Reason)
	}
	if got := countTable(t, db, "retry_worker_runs"); got != 3 {
		t.Errorf("worker runs: got %d, want 3", got)
	}

	// Runs that lost a claim skipped it, and those skips do not count as
	// open failures once the winning run delivered.
	report, err := local.Health(context.Background(), models.SubjectExecutiveReport, DefaultHealthParams())
	if err != nil {
		t.Fatalf("Health: %v", err)
	}
	if report.Counts.FailedExecutionCount != 0 || report.Counts.FailedDeliveryCount != 0 {
		t.Errorf("open failures after the concurrent runs: got %d executions and %d deliveries, want 0 and 0",
			report.Counts.FailedExecutionCount, report.Counts.FailedDeliveryCount)
	}
}

func TestKilledWorkerIsReconciled(t *testing.T) {
	cases := []struct {
		name string
		mode string
		stop func(t *testing.T, cmd *exec.Cmd, server *receiver.Server, output *strings.Builder)
	}{
		// The helper sends, then exits before it records the outcome.
		{"exit between send and record", "crash", func(t *testing.T, cmd *exec.Cmd, _ *receiver.Server, output *strings.Builder) {
			err := cmd.Run()
			if exitErr, ok := err.(*exec.ExitError); !ok || exitErr.ExitCode() != crashExitCode {
				t.Fatalf("helper: got %v, want exit code %d\n%s", err, crashExitCode, output.String())
			}
		}},
		// The receiver holds the request; the helper is killed while it waits.
		{"killed while the receiver hangs", "hang", func(t *testing.T, cmd *exec.Cmd, server *receiver.Server, output *strings.Builder) {
			if err := cmd.Start(); err != nil {
				t.Fatalf("start helper: %v", err)
			}
			deadline := time.Now().Add(30 * time.Second)
			for len(server.Requests()) == 0 {
				if time.Now().After(deadline) {
					_ = cmd.Process.Kill()
					t.Fatalf("the receiver got no request within 30 seconds\n%s", output.String())
				}
				time.Sleep(20 * time.Millisecond)
			}
			if err := cmd.Process.Kill(); err != nil {
				t.Fatalf("kill helper: %v", err)
			}
			_ = cmd.Wait()
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			testKilledWorkerIsReconciled(t, tc.mode, tc.stop)
		})
	}
}

func testKilledWorkerIsReconciled(t *testing.T, mode string, stop func(*testing.T, *exec.Cmd, *receiver.Server, *strings.Builder)) {
	db, databaseURL := dbtest.OpenURL(t, dbtest.Options{})
	server := startReceiver(t)
	original := insertDelivery(t, db, "run_1", "webhook", false, "server_error", 503, time.Now().Add(-time.Hour), nil)

	var output strings.Builder
	cmd := helperCommand(t, mode, databaseURL, server.URL, time.Now())
	cmd.Stdout, cmd.Stderr = &output, &output
	stop(t, cmd, server, &output)
	if got := receivedKeys(server)[original.IdempotencyKey]; got != 1 {
		t.Fatalf("requests before reconciling: got %d, want 1", got)
	}
	var interrupted models.RetryExecution
	if err := db.Where("outcome = ?", models.ExecutionInFlight).Take(&interrupted).Error; err != nil {
		t.Fatalf("in-flight execution after the crash: %v", err)
	}

	// A worker whose in-flight timeout has passed reconciles and retries
	// once more with the same idempotency key.
	clock := &testClock{now: time.Now().Add(2 * time.Minute)}
	service := newTestService(db, webhookRegistry(t, server.URL, map[string]string{"webhook": "/webhook/exec"}), clock.Now, &fakeSource{})
	run, err := service.Run(context.Background(), models.SubjectExecutiveReport, liveRequest(immediatePolicy()))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if run.Counts.ReconciledCount != 1 || run.Counts.DeliveredCount != 1 {
		t.Errorf("run counts: got %+v, want 1 reconciled and 1 delivered", run.Counts)
	}
	var settled models.RetryExecution
	if err := db.Where("id = ?", interrupted.ID).Take(&settled).Error; err != nil {
		t.Fatal(err)
	}
	if settled.Outcome != models.ExecutionFailed || settled.Reason != InterruptedReason {
		t.Errorf("interrupted execution: got %q %q, want failed %q", settled.Outcome, settled.Reason, InterruptedReason)
	}
	// The stopped worker's run is completed, with its execution counted as
	// failed.
	crashed, err := models.RetryWorkerRunByID(context.Background(), db, interrupted.WorkerRunID)
	if err != nil {
		t.Fatal(err)
	}
	if crashed.State != models.WorkerRunInterrupted || crashed.CompletedAt == nil || crashed.FailedCount != 1 || crashed.DeliveredCount != 0 {
		t.Errorf("stopped worker's run: got state %q closed at %v, %d failed and %d delivered; want interrupted with 1 failed",
			crashed.State, crashed.CompletedAt, crashed.FailedCount, crashed.DeliveredCount)
	}
	record, err := models.DeliveryByID(context.Background(), db, settled.DeliveryID)
	if err != nil {
		t.Fatal(err)
	}
	if record.State != models.DeliveryCompleted || record.Success || record.ErrorClass != ClassInterrupted {
		t.Errorf("interrupted delivery: got state %q success %v class %q, want a completed failure of class %q", record.State, record.Success, record.ErrorClass, ClassInterrupted)
	}
	// Each decision executed once: the crashed one and the new one.
	var executions []models.RetryExecution
	if err := db.Order("started_at").Find(&executions).Error; err != nil {
		t.Fatal(err)
	}
	if len(executions) != 2 || executions[0].DecisionID == executions[1].DecisionID {
		t.Errorf("executions: got %d, want 2 of different decisions", len(executions))
	}
	if got := receivedKeys(server)[original.IdempotencyKey]; got != 2 {
		t.Errorf("requests with the original idempotency key: got %d, want 2 (the receiver can drop the second)", got)
	}

	// Settled once: a later run finds nothing in flight and nothing to send.
	clock.Advance(time.Hour)
	later, err := service.Run(context.Background(), models.SubjectExecutiveReport, liveRequest(immediatePolicy()))
	if err != nil {
		t.Fatalf("later Run: %v", err)
	}
	if later.Counts.ReconciledCount != 0 || later.Counts.SelectedCount != 0 {
		t.Errorf("later run counts: got %+v, want nothing reconciled or selected", later.Counts)
	}
}

// blockingSource builds messages like fakeSource, but its first call signals
// entered and waits for release, so its run stays between selecting its
// retries and claiming them.
type blockingSource struct {
	fakeSource
	entered, release chan struct{}
	once             sync.Once
}

func (h *blockingSource) Message(ctx context.Context, subjectID, connector string) (connectors.Message, error) {
	h.once.Do(func() {
		close(h.entered)
		<-h.release
	})
	return h.fakeSource.Message(ctx, subjectID, connector)
}

func TestLiveRunsAtOnceSelectDifferentRetries(t *testing.T) {
	db, databaseURL := dbtest.OpenURL(t, dbtest.Options{})
	server := startReceiver(t)
	now := time.Now().Add(-time.Hour)
	const groups = 8
	for i := range groups {
		insertDelivery(t, db, fmt.Sprintf("run_%02d", i), "webhook", false, "server_error", 503, now, nil)
	}
	registry := webhookRegistry(t, server.URL, map[string]string{"webhook": "/webhook/exec"})
	source := &blockingSource{entered: make(chan struct{}), release: make(chan struct{})}
	first := newTestService(db, registry, time.Now, source)
	second := newTestService(dbtest.OpenExisting(t, databaseURL, dbtest.Options{}), registry, time.Now, &fakeSource{})
	request := liveRequest(immediatePolicy())
	request.MaxRetryDeliveries = groups / 2

	// The first run selects half of the due retries and stops before
	// claiming them. The second starts meanwhile.
	var firstView, secondView RunView
	var firstErr, secondErr error
	firstDone, secondDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(firstDone)
		firstView, firstErr = first.Run(context.Background(), models.SubjectExecutiveReport, request)
	}()
	select {
	case <-source.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the first run never asked for a message")
	}
	go func() {
		defer close(secondDone)
		secondView, secondErr = second.Run(context.Background(), models.SubjectExecutiveReport, request)
	}()
	select {
	case <-secondDone:
		t.Error("the second run finished while the first was still selecting")
	case <-time.After(300 * time.Millisecond):
	}
	close(source.release)
	<-firstDone
	<-secondDone
	if firstErr != nil || secondErr != nil {
		t.Fatalf("Run: first %v, second %v", firstErr, secondErr)
	}

	for name, view := range map[string]RunView{"first": firstView, "second": secondView} {
		if view.Counts.DeliveredCount != groups/2 || view.Counts.SkippedCount != 0 {
			t.Errorf("%s run: got %d delivered and %d skipped, want %d and 0",
				name, view.Counts.DeliveredCount, view.Counts.SkippedCount, groups/2)
		}
	}
	keys := receivedKeys(server)
	if len(keys) != groups {
		t.Errorf("distinct idempotency keys received: got %d, want %d (%v)", len(keys), groups, keys)
	}
	for key, n := range keys {
		if n != 1 {
			t.Errorf("requests with idempotency key %q: got %d, want 1", key, n)
		}
	}
}

func TestLiveRunBusySelectionRecordsNothing(t *testing.T) {
	db := dbtest.Open(t)
	server := startReceiver(t)
	insertDelivery(t, db, "run_busy", "webhook", false, "server_error", 503, time.Now().Add(-time.Hour), nil)
	service := newTestService(db, webhookRegistry(t, server.URL, map[string]string{"webhook": "/webhook/exec"}), time.Now, &fakeSource{})
	service.SelectionLockWait = 100 * time.Millisecond
	release, err := models.LockRetrySelection(context.Background(), db, models.SubjectExecutiveReport)
	if err != nil {
		t.Fatalf("LockRetrySelection: %v", err)
	}
	defer release()
	before := dbtest.CountRows(t, db)

	_, err = service.Run(context.Background(), models.SubjectExecutiveReport, liveRequest(immediatePolicy()))
	var busy *BusyError
	if !errors.As(err, &busy) {
		t.Fatalf("Run while another run selects: got %v, want a BusyError", err)
	}
	if !strings.Contains(busy.Message, "nothing was sent") {
		t.Errorf("BusyError message %q does not say that nothing was sent", busy.Message)
	}
	if got := len(server.Requests()); got != 0 {
		t.Errorf("receiver got %d requests, want 0", got)
	}
	after := dbtest.CountRows(t, db)
	for table, n := range after {
		if n != before[table] {
			t.Errorf("table %s: %d rows before the rejected run, %d after", table, before[table], n)
		}
	}
}

// Another process's live run waits for the selection lock that this one
// holds, on PostgreSQL through the advisory lock and on SQLite through the
// lock file, and gives up with nothing sent or stored.
func TestLiveRunWaitsForSelectionOfOtherProcess(t *testing.T) {
	db, databaseURL := dbtest.OpenURL(t, dbtest.Options{})
	server := startReceiver(t)
	insertDelivery(t, db, "run_other_process", "webhook", false, "server_error", 503, time.Now().Add(-time.Hour), nil)
	release, err := models.LockRetrySelection(context.Background(), db, models.SubjectExecutiveReport)
	if err != nil {
		t.Fatalf("LockRetrySelection: %v", err)
	}
	defer release()
	before := dbtest.CountRows(t, db)

	var output strings.Builder
	cmd := helperCommand(t, "busy", databaseURL, server.URL, time.Now())
	cmd.Stdout, cmd.Stderr = &output, &output
	if err := cmd.Run(); err != nil {
		t.Fatalf("helper: %v\n%s", err, output.String())
	}
	if !strings.Contains(output.String(), "helper busy: ") {
		t.Errorf("helper output does not report a busy selection:\n%s", output.String())
	}
	if got := len(server.Requests()); got != 0 {
		t.Errorf("receiver got %d requests, want 0", got)
	}
	after := dbtest.CountRows(t, db)
	for table, n := range after {
		if n != before[table] {
			t.Errorf("table %s: %d rows before the other process's run, %d after", table, before[table], n)
		}
	}
}
