package alerting_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/releaseops/evidence-console/alerting"
	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/models/dbtest"
)

// slowSender waits before each send, so two sends of one alert overlap.
type slowSender struct {
	inner connectors.Sender
	delay time.Duration
}

func (s slowSender) Send(ctx context.Context, name string, msg connectors.Message, opts connectors.SendOptions) connectors.Result {
	time.Sleep(s.delay)
	return s.inner.Send(ctx, name, msg, opts)
}

// TestSimultaneousSendsOfOneAlertSendOnce starts two sends of the same
// alert at the same moment, from two services with their own connection
// pools, as two processes would. One sends; the other waits for it and
// suppresses the destination as a duplicate of that delivery.
func TestSimultaneousSendsOfOneAlertSendOnce(t *testing.T) {
	f := newFixture(t, map[string]string{"alpha": "/webhook/a"})
	services := []*alerting.Service{f.service, f.newService(dbtest.OpenExisting(t, f.url, dbtest.Options{}), nil)}
	for _, service := range services {
		service.Delivery.Sender = slowSender{inner: f.registry, delay: 300 * time.Millisecond}
	}
	req := alerting.DefaultDeliverRequest()
	req.Actor, req.TimeoutSeconds, req.Retries = "tester", 2, 0

	var results [2]alerting.DeliverResult
	var errs [2]error
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, service := range services {
		wg.Go(func() {
			<-start
			results[i], errs[i] = service.Deliver(context.Background(), req)
		})
	}
	close(start)
	wg.Wait()

	for i, err := range errs {
		if err != nil {
			t.Fatalf("Deliver %d: %v", i, err)
		}
	}
	if got := len(f.receiver.Requests()); got != 1 {
		t.Fatalf("receiver requests: got %d, want 1", got)
	}
	sent, other := results[0], results[1]
	if len(sent.Delivery) == 0 {
		sent, other = other, sent
	}
	if len(sent.Delivery) != 1 || !sent.Success {
		t.Fatalf("sending plan: got %d deliveries, success %v; want 1 successful", len(sent.Delivery), sent.Success)
	}
	suppressed, ok := suppressedProviders(other)["alpha"]
	if !ok || suppressed.Reason != alerting.ReasonDuplicate || suppressed.DeliveryID != sent.Delivery[0].DeliveryID {
		t.Errorf("other plan: got suppressed %+v (found %v), want alpha suppressed as a duplicate of %s", suppressed, ok, sent.Delivery[0].DeliveryID)
	}
	var leases int64
	if err := f.db.Table("alert_send_leases").Count(&leases).Error; err != nil {
		t.Fatal(err)
	}
	if leases != 0 {
		t.Errorf("send leases after both sends: got %d, want 0", leases)
	}
}

// A send that starts while a forced send of the same alert is under way
// waits for it and suppresses the destination, instead of sending a second
// copy beside it.
func TestSendWaitsForForcedSend(t *testing.T) {
	f := newFixture(t, map[string]string{"alpha": "/webhook/a"})
	f.service.Delivery.Sender = slowSender{inner: f.registry, delay: 300 * time.Millisecond}
	forced := alerting.DefaultDeliverRequest()
	forced.Actor, forced.TimeoutSeconds, forced.Retries, forced.Force = "tester", 2, 0, true
	plain := forced
	plain.Force = false

	var forcedResult alerting.DeliverResult
	var forcedErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		forcedResult, forcedErr = f.service.Deliver(context.Background(), forced)
	}()
	// The plain send starts once the forced one holds the alert's lease.
	deadline := time.Now().Add(5 * time.Second)
	for {
		var leases int64
		if err := f.db.Table("alert_send_leases").Count(&leases).Error; err != nil {
			t.Fatal(err)
		}
		if leases > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the forced send took no send lease within 5 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	plainResult, plainErr := f.service.Deliver(context.Background(), plain)
	<-done

	if forcedErr != nil || plainErr != nil {
		t.Fatalf("Deliver: forced %v, plain %v", forcedErr, plainErr)
	}
	if got := len(f.receiver.Requests()); got != 1 {
		t.Fatalf("receiver requests: got %d, want 1 from the forced send", got)
	}
	if len(forcedResult.Delivery) != 1 || !forcedResult.Success {
		t.Fatalf("forced send: got %d deliveries, success %v; want 1 successful", len(forcedResult.Delivery), forcedResult.Success)
	}
	suppressed, ok := suppressedProviders(plainResult)["alpha"]
	if !ok || suppressed.DeliveryID != forcedResult.Delivery[0].DeliveryID {
		t.Errorf("plain send: got suppressed %+v (found %v), want alpha suppressed as a duplicate of %s",
			suppressed, ok, forcedResult.Delivery[0].DeliveryID)
	}
}
