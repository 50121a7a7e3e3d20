package audit

import (
	"archive/zip"
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/releaseops/evidence-console/models"
)

// MaxExportRange is the longest [from, to) an export may cover. Rows are
// streamed, so the limit bounds the time one export holds a connection, not
// memory.
const MaxExportRange = 366 * 24 * time.Hour

// exportKind maps one export file onto its table. rangeWhere selects the rows
// whose time falls in [from, to) with two ? placeholders, and order gives a
// stable row order.
type exportKind struct {
	name, table, rangeWhere, order string
}

var exportKinds = []exportKind{
	{"health_snapshots", "health_snapshots", "evaluated_at >= ? AND evaluated_at < ?", "evaluated_at, id"},
	{"alert_plans", "alert_plans", "created_at >= ? AND created_at < ?", "created_at, id"},
	{"alert_plan_destinations", "alert_plan_destinations", "created_at >= ? AND created_at < ?", "created_at, plan_id, provider"},
	{"deliveries", "deliveries", "created_at >= ? AND created_at < ?", "created_at, id"},
	{"acknowledgements", "alert_acknowledgements", "created_at >= ? AND created_at < ?", "created_at, id"},
	{"executive_reports", "executive_reports", "generated_at >= ? AND generated_at < ?", "generated_at, id"},
	{"schedule_runs", "executive_schedule_runs", "created_at >= ? AND created_at < ?", "created_at, id"},
	{"retry_plans", "retry_plans", "created_at >= ? AND created_at < ?", "created_at, id"},
	// Decisions carry no time of their own; they belong to their plan's.
	{"retry_decisions", "retry_decisions",
		"plan_id IN (SELECT id FROM retry_plans WHERE created_at >= ? AND created_at < ?)", "plan_id, position"},
	{"retry_worker_runs", "retry_worker_runs", "created_at >= ? AND created_at < ?", "created_at, id"},
	{"retry_executions", "retry_executions", "started_at >= ? AND started_at < ?", "started_at, id"},
	// Ingested upstream evidence, with its scrubbed raw item.
	{"escalation_retry_plans", "escalation_retry_plans", "created_at >= ? AND created_at < ?", "created_at, id"},
	{"escalation_worker_runs", "escalation_worker_runs", "created_at >= ? AND created_at < ?", "created_at, id"},
	{"escalation_retry_executions", "escalation_retry_executions", "created_at >= ? AND created_at < ?", "created_at, id"},
	{"escalation_deliveries", "escalation_deliveries", "created_at >= ? AND created_at < ?", "created_at, id"},
	{"audit_retry_executions", "audit_retry_executions", "executed_at >= ? AND executed_at < ?", "executed_at, id"},
	{"recovery_playbooks", "recovery_playbooks", "generated_at >= ? AND generated_at < ?", "generated_at, id"},
	{"recovery_closures", "recovery_closures", "closed_at >= ? AND closed_at < ?", "closed_at, id"},
}

// ExportKinds lists the kinds an export can contain, one file each.
func ExportKinds() []string {
	names := make([]string, 0, len(exportKinds))
	for _, k := range exportKinds {
		names = append(names, k.name)
	}
	return names
}

// ExportQuery selects the rows of an export: the kinds (every kind when
// empty) and the half-open time range [From, To).
type ExportQuery struct {
	From  time.Time
	To    time.Time
	Kinds []string
}

// Validate checks the range and the kinds and returns a *FieldError naming
// the first invalid field. It removes duplicate kinds, keeping the order.
func (q *ExportQuery) Validate() error {
	if q.From.IsZero() {
		return fieldErrorf("from", "from is required: send an RFC 3339 time such as 2026-05-01T00:00:00Z")
	}
	if q.To.IsZero() {
		return fieldErrorf("to", "to is required: send an RFC 3339 time such as 2026-05-02T00:00:00Z")
	}
	if !q.From.Before(q.To) {
		return fieldErrorf("to", "to must be later than from; got from %s and to %s",
			q.From.UTC().Format(time.RFC3339), q.To.UTC().Format(time.RFC3339))
	}
	if q.To.Sub(q.From) > MaxExportRange {
		return fieldErrorf("to", "the range from %s to %s is longer than %d days; export it in parts",
			q.From.UTC().Format(time.RFC3339), q.To.UTC().Format(time.RFC3339), int(MaxExportRange.Hours()/24))
	}
	var kinds []string
	for _, kind := range q.Kinds {
		if !slices.Contains(ExportKinds(), kind) {
			return fieldErrorf("kinds", "kinds contains %q, which is not an export kind; send a comma-separated list of %s",
				kind, strings.Join(ExportKinds(), ", "))
		}
		if !slices.Contains(kinds, kind) {
			kinds = append(kinds, kind)
		}
	}
	q.Kinds = kinds
	return nil
}

// Manifest describes an export: one entry per JSON Lines file with its row
// count and the SHA-256 of its bytes, so an auditor can check that no file
// was altered or cut short.
type Manifest struct {
	Format      string         `json:"format"`
	GeneratedAt time.Time      `json:"generated_at"`
	From        time.Time      `json:"from"`
	To          time.Time      `json:"to"`
	Kinds       []string       `json:"kinds"`
	Files       []ManifestFile `json:"files"`
}

// ManifestFile is one exported file.
type ManifestFile struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	Table  string `json:"table"`
	Rows   int64  `json:"rows"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// ManifestName is the name of the manifest inside the archive.
const ManifestName = "manifest.json"

// Export writes a zip archive to w: one <kind>.jsonl file per kind with one
// stored row per line, exactly as stored (every stored record is already
// public-safe), then manifest.json. Rows are read through a database cursor
// and written straight into the archive while their hash is computed, so
// memory stays bounded whatever the row count. The query must be valid. When
// an error occurs after writing began, the archive is left without its
// manifest, which marks it incomplete.
func (s *Service) Export(ctx context.Context, w io.Writer, q ExportQuery) (Manifest, error) {
	if err := q.Validate(); err != nil {
		return Manifest{}, err
	}
	kinds := q.Kinds
	if len(kinds) == 0 {
		kinds = ExportKinds()
	}
	manifest := Manifest{
		Format:      "JSON Lines: one stored row per line, columns as stored, times in RFC 3339 UTC",
		GeneratedAt: models.UTC(s.Now()), From: models.UTC(q.From), To: models.UTC(q.To), Kinds: kinds,
		Files: []ManifestFile{},
	}

	archive := zip.NewWriter(w)
	for _, kind := range exportKinds {
		if !slices.Contains(kinds, kind.name) {
			continue
		}
		file, err := s.exportKind(ctx, archive, kind, manifest.From, manifest.To, manifest.GeneratedAt)
		if err != nil {
			return manifest, err
		}
		manifest.Files = append(manifest.Files, file)
	}

	header := &zip.FileHeader{Name: ManifestName, Method: zip.Deflate, Modified: manifest.GeneratedAt}
	out, err := archive.CreateHeader(header)
	if err != nil {
		return manifest, fmt.Errorf("audit: unable to start %s: %w", ManifestName, err)
	}
	encoder := json.NewEncoder(out)
	encoder.SetIndent("", "  ")
	if err := encoder.Encode(manifest); err != nil {
		return manifest, fmt.Errorf("audit: unable to write %s: %w", ManifestName, err)
	}
	if err := archive.Close(); err != nil {
		return manifest, fmt.Errorf("audit: unable to finish the export archive: %w", err)
	}
	return manifest, nil
}

// exportKind streams one kind's rows into its archive file.
func (s *Service) exportKind(ctx context.Context, archive *zip.Writer, kind exportKind, from, to, modified time.Time) (ManifestFile, error) {
	file := ManifestFile{Name: kind.name + ".jsonl", Kind: kind.name, Table: kind.table}
	out, err := archive.CreateHeader(&zip.FileHeader{Name: file.Name, Method: zip.Deflate, Modified: modified})
	if err != nil {
		return file, fmt.Errorf("audit: unable to start %s: %w", file.Name, err)
	}
	hash := sha256.New()
	counter := &countingWriter{}
	buffered := bufio.NewWriter(io.MultiWriter(out, hash, counter))

	rows, err := s.DB.WithContext(ctx).
		Raw("SELECT * FROM "+kind.table+" WHERE "+kind.rangeWhere+" ORDER BY "+kind.order, from, to).Rows()
	if err != nil {
		return file, fmt.Errorf("audit: unable to read %s: %w", kind.table, err)
	}
	defer rows.Close()
	columns, err := rows.ColumnTypes()
	if err != nil {
		return file, fmt.Errorf("audit: unable to read the columns of %s: %w", kind.table, err)
	}
	values := make([]any, len(columns))
	pointers := make([]any, len(columns))
	for i := range values {
		pointers[i] = &values[i]
	}
	encoder := json.NewEncoder(buffered)
	cleaned := 0
	for rows.Next() {
		if err := rows.Scan(pointers...); err != nil {
			return file, fmt.Errorf("audit: unable to scan a row of %s: %w", kind.table, err)
		}
		row := make(map[string]any, len(columns))
		for i, column := range columns {
			value := exportValue(column.DatabaseTypeName(), values[i])
			// Ingestion rejects configured secrets, but a row stored before a
			// secret was configured can still hold one.
			if text, ok := value.(string); ok {
				if withoutSecret, found := s.Secrets.RemoveConfiguredSecrets(text); found {
					value = withoutSecret
					cleaned++
				}
			}
			row[column.Name()] = value
		}
		if err := encoder.Encode(row); err != nil {
			return file, fmt.Errorf("audit: unable to write a row of %s: %w", kind.table, err)
		}
		file.Rows++
	}
	if err := rows.Err(); err != nil {
		return file, fmt.Errorf("audit: unable to read %s: %w", kind.table, err)
	}
	if cleaned > 0 && s.Logger != nil {
		s.Logger.Warn("configured secrets removed from exported values", "table", kind.table, "values", cleaned)
	}
	if err := buffered.Flush(); err != nil {
		return file, fmt.Errorf("audit: unable to write %s: %w", file.Name, err)
	}
	file.Bytes = counter.n
	file.SHA256 = hex.EncodeToString(hash.Sum(nil))
	return file, nil
}

// exportValue converts a scanned column value to the same JSON on both
// databases: times become RFC 3339 UTC strings, bytes become text, and
// SQLite's 0/1 booleans become JSON booleans.
func exportValue(databaseType string, value any) any {
	switch v := value.(type) {
	case time.Time:
		return v.UTC().Format(time.RFC3339Nano)
	case []byte:
		return string(v)
	case int64:
		if strings.EqualFold(databaseType, "BOOLEAN") || strings.EqualFold(databaseType, "BOOL") {
			return v != 0
		}
		return v
	default:
		return v
	}
}

type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return len(p), nil
}
