package main

import (
	"fmt"

	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/connectors/receiver"
)

// startConnectors starts the local receiver when LOCAL_RECEIVER is set and
// logs the readiness of each connector of the registry that run loaded. The
// returned function stops the receiver.
func (a *app) startConnectors() (*connectors.Registry, func(), error) {
	stop := func() {}
	if a.cfg.LocalReceiver != "" {
		// The receiver's pages list the paths it was sent, which are the
		// secret URLs of the local configuration, so they pass the same
		// redaction as the console's.
		server, err := receiver.Start(a.cfg.LocalReceiver, receiver.WithSecrets(a.registry.Redactor()))
		if err != nil {
			return nil, stop, fmt.Errorf("LOCAL_RECEIVER: %w", err)
		}
		a.logger.Info("local connector receiver started", "address", server.Addr, "requests", server.URL+"/")
		stop = func() {
			if err := server.Close(); err != nil {
				a.logger.Warn("unable to stop the local connector receiver", "error", err)
			}
		}
	}

	registry := a.registry
	for _, status := range registry.Statuses() {
		if status.Ready {
			a.logger.Info("connector ready", "connector", status.Name, "kind", status.Kind, "host", status.Host)
		} else {
			a.logger.Warn("connector not ready", "connector", status.Name, "kind", status.Kind, "problem", status.Problem)
		}
	}
	return registry, stop, nil
}
