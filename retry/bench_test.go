package retry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/models/dbtest"
)

const (
	benchRetries     = 2000
	benchConcurrency = 4
)

// BenchmarkLiveRetry2000 times live worker runs that re-send 2,000 due
// executive deliveries to a loopback receiver, 25 per run with
// benchConcurrency sends at once, then with two runs at a time that each
// send half as many at once. It then times a plain net/http client that
// posts the same bodies to the same receiver with the same concurrency.
func BenchmarkLiveRetry2000(b *testing.B) {
	db := dbtest.Open(b)
	server := startReceiver(b)
	service := newTestService(db, webhookRegistry(b, server.URL, map[string]string{"webhook": "/webhook/bench"}), time.Now, &fakeSource{})
	service.Concurrency = benchConcurrency

	// drain sends every due retry with live runs of at most 25 and
	// returns how many were delivered.
	drain := func() (int, error) {
		sent := 0
		for {
			request := liveRequest(immediatePolicy())
			request.MaxRetryDeliveries = MaxRetryDeliveriesLimit
			run, err := service.Run(context.Background(), models.SubjectExecutiveReport, request)
			if err != nil {
				return sent, err
			}
			if run.Counts.SelectedCount == 0 {
				return sent, nil
			}
			sent += run.Counts.DeliveredCount
		}
	}
	drainAll := func(b *testing.B) {
		if sent, err := drain(); err != nil || sent != benchRetries {
			b.Fatalf("delivered: got %d, want %d (error %v)", sent, benchRetries, err)
		}
	}
	// A running database holds earlier runs and has table statistics, so
	// one untimed pass comes first, followed by ANALYZE as autovacuum would
	// run it.
	seed(b, db)
	drainAll(b)
	if err := db.Exec("ANALYZE").Error; err != nil {
		b.Fatalf("analyze: %v", err)
	}

	var bodies [][]byte
	b.Run("worker", func(b *testing.B) {
		phasesBefore := phaseSeconds(b)
		for range b.N {
			b.StopTimer()
			seed(b, db)
			b.StartTimer()
			drainAll(b)
		}
		b.StopTimer()
		for _, request := range server.Requests() {
			bodies = append(bodies, request.Body)
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*benchRetries), "µs/retry")
		// Where the time went: the phases follow each other within a run,
		// so their sum is about the elapsed time.
		for phase, seconds := range phaseSeconds(b) {
			b.ReportMetric((seconds-phasesBefore[phase])*1e6/float64(b.N*benchRetries), phase+"_µs/retry")
		}
	})

	// Two live runs at a time, each sending half as many requests at once,
	// keep the same number of sends under way. One run sends while the
	// other reads, claims or records.
	b.Run("worker_two_at_a_time", func(b *testing.B) {
		service.Concurrency = benchConcurrency / 2
		defer func() { service.Concurrency = benchConcurrency }()
		for range b.N {
			b.StopTimer()
			seed(b, db)
			b.StartTimer()
			type result struct {
				sent int
				err  error
			}
			results := make(chan result, 2)
			for range 2 {
				go func() {
					sent, err := drain()
					results <- result{sent, err}
				}()
			}
			first, second := <-results, <-results
			if err := errors.Join(first.err, second.err); err != nil || first.sent+second.sent != benchRetries {
				b.Fatalf("delivered: got %d, want %d (error %v)", first.sent+second.sent, benchRetries, err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*benchRetries), "µs/retry")
	})

	b.Run("net_http", func(b *testing.B) {
		if len(bodies) == 0 {
			b.Fatal("no recorded bodies to replay")
		}
		client := &http.Client{Timeout: 10 * time.Second}
		for range b.N {
			jobs := make(chan []byte)
			var wg sync.WaitGroup
			for range benchConcurrency {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for body := range jobs {
						response, err := client.Post(server.URL+"/webhook/bench", "application/json", bytes.NewReader(body))
						if err != nil {
							b.Errorf("post: %v", err)
							continue
						}
						_ = response.Body.Close()
					}
				}()
			}
			for i := range benchRetries {
				jobs <- bodies[i%len(bodies)]
			}
			close(jobs)
			wg.Wait()
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*benchRetries), "µs/retry")
	})
}

// phaseSeconds returns the seconds that live executive report runs have
// spent in each phase so far.
func phaseSeconds(tb testing.TB) map[string]float64 {
	seconds := map[string]float64{}
	for phase, sample := range phaseSamples(tb) {
		seconds[phase] = sample.seconds
	}
	return seconds
}

// seedRound numbers the seeded schedule runs across benchmark passes, so a
// pass never reuses a schedule run that an earlier pass retried.
var seedRound int

// seed stores benchRetries failed deliveries of new schedule runs, one hour
// old, in batches.
func seed(b *testing.B, db *gorm.DB) {
	b.Helper()
	seedRound++
	round := seedRound
	at := time.Now().Add(-time.Hour).UTC()
	completed := at.Add(time.Second)
	deliveries := make([]models.Delivery, 0, benchRetries)
	for i := range benchRetries {
		runID := fmt.Sprintf("xrun_bench_%d_%04d", round, i)
		deliveries = append(deliveries, models.Delivery{
			ID: models.NewID("dlv", at), SubjectKind: models.SubjectExecutiveReport, SubjectID: runID, SubjectKey: "rep_" + runID,
			Connector: "webhook", ConnectorKind: "webhook", State: models.DeliveryCompleted, ErrorClass: "server_error",
			StatusCode: 503, AttemptCount: 1, Attempts: "[]", RequestSummary: "{}", IdempotencyKey: "idem-" + runID,
			Origin: models.OriginSend, Actor: "bench", StartedAt: at, CompletedAt: &completed, CreatedAt: at,
		})
	}
	if err := db.CreateInBatches(deliveries, 200).Error; err != nil {
		b.Fatalf("seed deliveries: %v", err)
	}
}
