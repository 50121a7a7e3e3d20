package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/releaseops/evidence-console/evidence"
)

// importFile ingests an export file {"items": [ … ]} and prints a summary.
// It fails when any record was rejected, after storing the valid ones.
func (a *app) importFile(ctx context.Context, path string) error {
	file, err := os.Open(path)
	if err != nil {
		return usageError{message: fmt.Sprintf("unable to open %s: %v", path, err)}
	}
	defer file.Close()
	if info, err := file.Stat(); err == nil && info.IsDir() {
		return usageError{message: fmt.Sprintf(`%s is a directory; give the path of an export file, a JSON file of the form {"items": [ … ]}`, path), showUsage: true}
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

	service := &evidence.Service{DB: db, Now: time.Now, Logger: a.logger}
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
		return fmt.Errorf("%d of %d records rejected; the others were stored", len(result.Rejected), result.Received)
	}
	return nil
}
