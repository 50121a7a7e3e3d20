package main

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"testing"
	"time"
)

// slowServer serves one handler that holds each request until release is
// closed, and reports on started when a request arrives.
func slowServer(t *testing.T) (*http.Server, string, chan struct{}, chan struct{}) {
	t.Helper()
	started, release := make(chan struct{}, 1), make(chan struct{})
	server := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		started <- struct{}{}
		<-release
		_, _ = io.WriteString(w, "done")
	})}
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = server.Serve(listener) }()
	return server, "http://" + listener.Addr().String(), started, release
}

func TestShutdownWaitsForRequestUnderWay(t *testing.T) {
	server, url, started, release := slowServer(t)
	response := make(chan error, 1)
	go func() {
		resp, err := http.Get(url)
		if err == nil {
			_ = resp.Body.Close()
		}
		response <- err
	}()
	<-started

	stopped := make(chan error, 1)
	go func() { stopped <- shutdown(server, time.Minute, make(chan os.Signal)) }()
	select {
	case err := <-stopped:
		t.Fatalf("shutdown returned %v while a request was under way, want it to wait", err)
	case <-time.After(300 * time.Millisecond):
	}
	close(release)

	if err := <-response; err != nil {
		t.Errorf("request under way: got %v, want its response", err)
	}
	if err := <-stopped; err != nil {
		t.Errorf("shutdown: got %v, want nil", err)
	}
}

func TestShutdownStopsOnSecondSignal(t *testing.T) {
	server, url, started, release := slowServer(t)
	defer close(release)
	go func() {
		if resp, err := http.Get(url); err == nil {
			_ = resp.Body.Close()
		}
	}()
	<-started

	again := make(chan os.Signal, 1)
	stopped := make(chan error, 1)
	go func() { stopped <- shutdown(server, time.Minute, again) }()
	again <- os.Interrupt

	select {
	case err := <-stopped:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("shutdown: got %v, want it cancelled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("shutdown still waiting 5 seconds after the second signal")
	}
}
