package evidence

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"gorm.io/gorm"

	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/models"
)

// Service stores ingested evidence.
type Service struct {
	DB     *gorm.DB
	Now    func() time.Time
	Logger *slog.Logger
	// Secrets holds the configured destinations' secrets, so a record that
	// carries one is rejected rather than stored, shown and sent on. Nil
	// holds none.
	Secrets *connectors.Redactor
}

// RecordError describes one rejected record.
type RecordError struct {
	Index        int    `json:"index"`
	RecordID     string `json:"record_id,omitempty"`
	MetadataKind string `json:"metadata_kind,omitempty"`
	Field        string `json:"field"`
	Error        string `json:"error"`
}

// Result summarises one ingestion batch.
type Result struct {
	Received     int            `json:"received"`
	Inserted     int            `json:"inserted"`
	Duplicates   int            `json:"duplicates"`
	Rejected     []RecordError  `json:"rejected"`
	SkippedCount int            `json:"skipped_unknown_count"`
	SkippedKinds map[string]int `json:"skipped_unknown_kinds"`
	InsertedKind map[string]int `json:"inserted_by_kind"`
}

// DecodeItems decodes a JSON array of records, keeping numbers exact.
func DecodeItems(raw []json.RawMessage) ([]map[string]any, []RecordError) {
	items := make([]map[string]any, len(raw))
	var errs []RecordError
	for i, element := range raw {
		decoder := json.NewDecoder(bytes.NewReader(element))
		decoder.UseNumber()
		var object map[string]any
		if err := decoder.Decode(&object); err != nil || object == nil {
			errs = append(errs, RecordError{Index: i, Field: "(record)", Error: "record must be a JSON object"})
			continue
		}
		items[i] = object
	}
	return items, errs
}

// echo returns text from a rejected record for the rejection report, with
// credentials and configured secrets, in any letter case, replaced.
func (s *Service) echo(text string) string {
	cleaned, _ := s.Secrets.RemoveConfiguredSecrets(s.Secrets.Redact(text))
	return cleaned
}

// Ingest validates and stores records in one transaction. Invalid records are
// reported by index and field, and the valid ones are stored all the same.
// Unknown kinds are counted and skipped, unless the record contains a
// configured secret. A record whose id is already stored
// is a duplicate and changes nothing.
func (s *Service) Ingest(ctx context.Context, records []json.RawMessage) (Result, error) {
	now := models.UTC(s.Now())
	items, decodeErrs := DecodeItems(records)
	result := Result{Received: len(items), Rejected: decodeErrs, SkippedKinds: map[string]int{}, InsertedKind: map[string]int{}}
	if result.Rejected == nil {
		result.Rejected = []RecordError{}
	}

	var valid []*parsed
	for i, object := range items {
		if object == nil {
			continue // already rejected by DecodeItems
		}
		record, err := parseItem(item(object), now, s.Secrets)
		var skip errSkip
		var fieldErr *FieldError
		// A record of a skipped kind is rejected too when it contains a
		// configured secret, which its kind or source in the skipped counts
		// would otherwise repeat.
		if path, found := configuredSecretPath(map[string]any(object), "", s.Secrets); found && (err == nil || errors.As(err, &skip)) {
			err = &FieldError{Field: path, Problem: "contains a secret of a configured destination; remove it from the record"}
		}
		switch {
		case errors.As(err, &skip):
			result.SkippedCount++
			result.SkippedKinds[skip.kind]++
		case errors.As(err, &fieldErr):
			// The message can quote the rejected value, which may itself be
			// a credential.
			result.Rejected = append(result.Rejected, RecordError{
				Index: i, RecordID: s.echo(recordID(item(object))), MetadataKind: s.echo(item(object).describingText("metadata_kind")),
				Field: s.echo(fieldErr.Field), Error: s.echo(fieldErr.Error()),
			})
		case err != nil:
			return result, err
		default:
			valid = append(valid, record)
		}
	}

	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := models.LockEvidence(tx); err != nil {
			return fmt.Errorf("evidence: unable to lock for ingestion: %w", err)
		}
		deltas := map[string]int64{}
		for _, record := range valid {
			inserted, err := store(tx, record, deltas)
			if err != nil {
				return fmt.Errorf("evidence: unable to store %s %s: %w", record.kind, record.id, err)
			}
			if inserted {
				result.Inserted++
				result.InsertedKind[record.kind]++
			} else {
				result.Duplicates++
			}
		}
		return models.AddCounts(tx, deltas)
	})
	if err != nil {
		return Result{}, err
	}

	sort.Slice(result.Rejected, func(i, j int) bool { return result.Rejected[i].Index < result.Rejected[j].Index })
	if s.Logger != nil {
		s.Logger.Info("evidence ingested", "received", result.Received, "inserted", result.Inserted,
			"duplicates", result.Duplicates, "rejected", len(result.Rejected), "skipped_unknown", result.SkippedCount)
	}
	return result, nil
}

// recordID finds the record's own id for error reports, whatever its kind.
func recordID(it item) string {
	// A closure also names its playbook, so closure_id comes first.
	for _, key := range []string{"retry_plan_id", "run_id", "execution_id", "closure_id", "playbook_id", "delivery_id", "id"} {
		if id := it.describingText(key); id != "" {
			return id
		}
	}
	return ""
}

// playbookEntryBatchSize is the number of playbook entries one INSERT
// stores. An entry binds 5 parameters, so a batch binds 2,500, far below
// the 65,535 PostgreSQL allows in one statement and the 32,766 of SQLite
// (SQLITE_MAX_VARIABLE_NUMBER since SQLite 3.32.0).
const playbookEntryBatchSize = 500

// store inserts one record unless its id exists, and adds to deltas the
// running totals it changes.
func store(tx *gorm.DB, record *parsed, deltas map[string]int64) (bool, error) {
	switch {
	case record.plan != nil:
		inserted, err := models.InsertIfAbsent(tx, record.plan)
		if inserted {
			deltas[models.CountRetryPlans]++
			deltas[models.CountRetryableRetries] += int64(record.plan.RetryableCount)
		}
		return inserted, err

	case record.run != nil:
		inserted, err := models.InsertIfAbsent(tx, record.run)
		if inserted {
			deltas[models.CountWorkerRuns]++
			if !record.run.ScheduleEnabled {
				deltas[models.CountWorkerRunsDisabled]++
			}
		}
		return inserted, err

	case record.exec != nil:
		inserted, err := models.InsertIfAbsent(tx, record.exec)
		if err != nil || !inserted {
			return inserted, err
		}
		deltas[models.CountExecutions]++
		deltas["escalation_retry_executions_"+record.exec.ExecutionStatus]++
		change, err := models.UpsertExecutionPair(tx, *record.exec)
		deltas[models.CountOpenExecutionFailures] += change
		return true, err

	case record.delivery != nil:
		inserted, err := models.InsertIfAbsent(tx, record.delivery)
		if inserted {
			deltas[models.CountEscalationDeliveries]++
			if !record.delivery.DeliverySuccess {
				deltas[models.CountEscalationDeliveryFailed]++
			}
		}
		return inserted, err

	case record.audit != nil:
		inserted, err := models.InsertIfAbsent(tx, record.audit)
		if inserted {
			deltas[models.CountAuditRetryExecutions]++
		}
		return inserted, err

	case record.playbook != nil:
		inserted, err := models.InsertIfAbsent(tx, record.playbook)
		if err != nil || !inserted {
			return inserted, err
		}
		deltas[models.CountRecoveryPlaybooks]++
		if len(record.entries) > 0 {
			if err := tx.CreateInBatches(&record.entries, playbookEntryBatchSize).Error; err != nil {
				return false, err
			}
		}
		return true, nil

	case record.closure != nil:
		inserted, err := models.InsertIfAbsent(tx, record.closure)
		if inserted {
			deltas[models.CountRecoveryClosures]++
		}
		return inserted, err
	}
	return false, fmt.Errorf("evidence: record %s has no row", record.id)
}

// configuredSecretPath returns the dotted path of the first string in value
// that contains a configured secret of secrets.
func configuredSecretPath(value any, path string, secrets *connectors.Redactor) (string, bool) {
	switch v := value.(type) {
	case map[string]any:
		for key, inner := range v {
			child := key
			if path != "" {
				child = path + "." + key
			}
			if secrets.HasConfiguredSecretIgnoringCase(key) {
				return child, true
			}
			if found, ok := configuredSecretPath(inner, child, secrets); ok {
				return found, true
			}
		}
	case []any:
		for i, inner := range v {
			if found, ok := configuredSecretPath(inner, fmt.Sprintf("%s[%d]", path, i), secrets); ok {
				return found, true
			}
		}
	case string:
		// Spaces or line breaks inside a secret still give it away.
		return path, secrets.HasConfiguredSecretIgnoringCase(v) || secrets.HasSplitConfiguredSecret(v)
	}
	return "", false
}
