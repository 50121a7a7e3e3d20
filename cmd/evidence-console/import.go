package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/releaseops/evidence-console/evidence"
)

// importFile ingests an export file {"items": [ … ]} or {"records": [ … ]}
// and prints a summary.
// It fails when any record was rejected, after storing the valid ones.
func (a *app) importFile(ctx context.Context, path string) error {
	file, err := os.Open(path)
	if err != nil {
		return usageError{message: fmt.Sprintf("unable to open %s: %v", path, err)}
	}
	defer file.Close()
	if info, err := file.Stat(); err == nil && info.IsDir() {
		return usageError{message: fmt.Sprintf(`%s is a directory; give the path of an export file, a JSON file of the form {"items": [ … ]} or {"records": [ … ]}`, path), showUsage: true}
	}

	// Records are checked against the configured secrets, so a secret that
	// cannot be read would let records holding it through unnoticed.
	if unread := a.unreadSecrets(); len(unread) > 0 {
		return usageError{message: "unable to check the records for the secrets of connectors that are not ready: " +
			strings.Join(unread, "; ") + ". Give import the same secrets as the server, or disable those connectors in CONNECTOR_CONFIG"}
	}

	if a.cfg.ConnectorConfig == "" {
		a.logger.Warn("CONNECTOR_CONFIG is not set, so records are not checked for the secrets of the server's connectors; " +
			"run import with the server's CONNECTOR_CONFIG and secrets to check them")
	}
	records, err := evidence.ReadExport(file)
	if err != nil {
		return err
	}
	db, closeDB, err := a.openDatabase(ctx, a.cfg.Migrate)
	if err != nil {
		return err
	}
	defer closeDB()

	service := &evidence.Service{DB: db, Now: time.Now, Logger: a.logger, Secrets: a.registry.Redactor()}
	result, err := service.Ingest(ctx, records)
	if err != nil {
		return err
	}

	encoder := json.NewEncoder(a.stdout)
	encoder.SetIndent("", "  ")
	if err := encoder.Encode(result); err != nil {
		return err
	}
	if len(result.Rejected) > 0 {
		return fmt.Errorf(`%s; the "rejected" list in the summary on standard output names each record and field`, rejectionSummary(result))
	}
	return nil
}

// unreadSecrets names each enabled connector whose secrets could not be
// read, with the reason, for commands that check text against them.
func (a *app) unreadSecrets() []string {
	var unread []string
	for _, status := range a.registry.Statuses() {
		if status.Enabled && !status.Ready {
			unread = append(unread, status.Name+" ("+status.Problem+")")
		}
	}
	return unread
}

// rejectionSummary counts what became of the records of an import that
// rejected some, for example "1 of 3 records rejected, 1 stored, 1 already
// stored".
func rejectionSummary(result evidence.Result) string {
	noun := "records"
	if result.Received == 1 {
		noun = "record"
	}
	counts := []string{fmt.Sprintf("%d of %d %s rejected", len(result.Rejected), result.Received, noun)}
	if result.Inserted == 0 {
		counts = append(counts, "none stored")
	} else {
		counts = append(counts, fmt.Sprintf("%d stored", result.Inserted))
	}
	if result.Duplicates > 0 {
		counts = append(counts, fmt.Sprintf("%d already stored", result.Duplicates))
	}
	if result.SkippedCount > 0 {
		counts = append(counts, fmt.Sprintf("%d with an unknown metadata_kind skipped", result.SkippedCount))
	}
	return strings.Join(counts, ", ")
}
