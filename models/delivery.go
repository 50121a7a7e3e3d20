package models

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Delivery subject kinds: what a delivery carried.
const (
	SubjectHealthAlert     = "health_alert"
	SubjectExecutiveReport = "executive_report"
)

// Delivery states.
const (
	DeliveryInFlight  = "in_flight"
	DeliveryCompleted = "completed"
)

// Delivery origins: the first send, or a retry execution.
const (
	OriginSend  = "send"
	OriginRetry = "retry"
)

// Delivery is the public-safe evidence of one delivery operation to one
// destination. SubjectID is the alert plan or schedule run delivered;
// SubjectKey groups deliveries of the same content (the alert fingerprint,
// the report id). Attempts and RequestSummary are JSON text.
type Delivery struct {
	ID               string `gorm:"primaryKey"`
	SubjectKind      string
	SubjectID        string
	SubjectKey       string
	Connector        string
	ConnectorKind    string
	Host             string
	Method           string
	State            string
	Success          bool
	StatusCode       int
	ErrorClass       string
	AttemptCount     int
	Attempts         string
	Error            string
	ResponseExcerpt  string
	RequestSummary   string
	IdempotencyKey   string
	Origin           string
	RetryExecutionID string
	// ReconciledByRunID is the live worker run that recorded the delivery
	// as interrupted after a stopped server left it in flight.
	ReconciledByRunID string
	Actor             string
	RetryAfter        *time.Time
	StartedAt         time.Time
	CompletedAt       *time.Time
	CreatedAt         time.Time
}

// CreateDelivery stores an in-flight delivery; call it inside the
// transaction that stores the delivery's subject.
func CreateDelivery(tx *gorm.DB, delivery *Delivery) error {
	if err := tx.Create(delivery).Error; err != nil {
		return fmt.Errorf("models: unable to store delivery %s: %w", delivery.ID, err)
	}
	return nil
}

// createBatchSize is the number of rows one batched INSERT stores. At 25
// columns a row, a batch binds 5,000 parameters. PostgreSQL allows 65,535
// bound parameters per statement, and SQLite 32,766 by default
// (SQLITE_MAX_VARIABLE_NUMBER since SQLite 3.32.0).
const createBatchSize = 200

// CreateDeliveries stores in-flight deliveries in one statement per
// createBatchSize rows. Call it inside the transaction that stores the
// deliveries' subjects.
func CreateDeliveries(tx *gorm.DB, deliveries []Delivery) error {
	if len(deliveries) == 0 {
		return nil
	}
	if err := tx.CreateInBatches(deliveries, createBatchSize).Error; err != nil {
		return fmt.Errorf("models: unable to store %d deliveries: %w", len(deliveries), err)
	}
	return nil
}

// ErrNotInFlight is wrapped by the error of CompleteDelivery when the
// delivery is not in flight, because its outcome is already recorded or it
// does not exist.
var ErrNotInFlight = errors.New("not in flight")

// CompleteDelivery records the outcome of an in-flight delivery. Only an
// in-flight row is updated, so finishing twice is an error wrapping
// ErrNotInFlight, not a change.
func CompleteDelivery(ctx context.Context, db *gorm.DB, delivery *Delivery) error {
	result := db.WithContext(ctx).Model(&Delivery{}).
		Where("id = ? AND state = ?", delivery.ID, DeliveryInFlight).
		Updates(map[string]any{
			"state": DeliveryCompleted, "success": delivery.Success, "status_code": delivery.StatusCode,
			"error_class": delivery.ErrorClass, "attempt_count": delivery.AttemptCount, "attempts": delivery.Attempts,
			"error": delivery.Error, "response_excerpt": delivery.ResponseExcerpt, "request_summary": delivery.RequestSummary,
			"host": delivery.Host, "method": delivery.Method, "connector_kind": delivery.ConnectorKind,
			"retry_after": delivery.RetryAfter, "completed_at": delivery.CompletedAt,
			"reconciled_by_run_id": delivery.ReconciledByRunID,
		})
	if result.Error != nil {
		return fmt.Errorf("models: unable to complete delivery %s: %w", delivery.ID, result.Error)
	}
	if result.RowsAffected != 1 {
		return fmt.Errorf("models: delivery %s is %w", delivery.ID, ErrNotInFlight)
	}
	delivery.State = DeliveryCompleted
	return nil
}

// completeBatchSize is the number of deliveries CompleteDeliveries updates
// per statement. Each row binds 14 parameters, so a batch binds 7,001,
// within the limits given at createBatchSize.
const completeBatchSize = 500

// CompleteDeliveries records the outcomes of in-flight deliveries, each
// carrying its own outcome columns, in one UPDATE per completeBatchSize rows.
// Only in-flight rows change. If any delivery is not in flight, it returns
// an error and the caller's transaction must roll back, because the other
// rows of the batch are already updated. On success it sets State on every
// element of deliveries.
func CompleteDeliveries(ctx context.Context, db *gorm.DB, deliveries []Delivery) error {
	for start := 0; start < len(deliveries); start += completeBatchSize {
		batch := deliveries[start:min(start+completeBatchSize, len(deliveries))]
		if err := completeDeliveryBatch(ctx, db, batch); err != nil {
			return err
		}
	}
	for i := range deliveries {
		deliveries[i].State = DeliveryCompleted
	}
	return nil
}

// completeDeliveryBatch updates one batch of CompleteDeliveries from a
// VALUES list with one row per delivery, sorted by ID. The sort does not fix
// the order in which PostgreSQL locks the rows. A nested loop locks them in
// list order, but a hash join locks them in storage order, as PostgreSQL 15
// planned it for lists of under 5,000 rows.
func completeDeliveryBatch(ctx context.Context, db *gorm.DB, deliveries []Delivery) error {
	sorted := append([]Delivery(nil), deliveries...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].ID < sorted[j].ID })

	integer, boolean, timestamp := typedParam(db, "INTEGER"), typedParam(db, "BOOLEAN"), typedParam(db, "TIMESTAMPTZ")
	columns := []rowColumn{
		{"success", boolean, func(i int) any { return sorted[i].Success }},
		{"status_code", integer, func(i int) any { return sorted[i].StatusCode }},
		{"error_class", "?", func(i int) any { return sorted[i].ErrorClass }},
		{"attempt_count", integer, func(i int) any { return sorted[i].AttemptCount }},
		{"attempts", "?", func(i int) any { return sorted[i].Attempts }},
		{"error", "?", func(i int) any { return sorted[i].Error }},
		{"response_excerpt", "?", func(i int) any { return sorted[i].ResponseExcerpt }},
		{"request_summary", "?", func(i int) any { return sorted[i].RequestSummary }},
		{"host", "?", func(i int) any { return sorted[i].Host }},
		{"method", "?", func(i int) any { return sorted[i].Method }},
		{"connector_kind", "?", func(i int) any { return sorted[i].ConnectorKind }},
		{"retry_after", timestamp, func(i int) any { return optionalTime(sorted[i].RetryAfter) }},
		{"completed_at", timestamp, func(i int) any { return optionalTime(sorted[i].CompletedAt) }},
	}
	ids := make([]string, 0, len(sorted))
	for _, delivery := range sorted {
		ids = append(ids, delivery.ID)
	}

	var query strings.Builder
	args := make([]any, 0, (len(columns)+1)*len(sorted)+1)
	writeUpdateFromValues(&query, &args, "deliveries", "state = ?", []any{DeliveryCompleted}, ids, columns)
	// The state is a literal, not a bound parameter. modernc.org/sqlite
	// v1.62.0 is built with SQLITE_ENABLE_STAT4, so after ANALYZE SQLite
	// prepares a statement again at its first step when a bound value
	// compared with an indexed column could change the plan. Preparing this
	// statement compiles the deliveries triggers, which costs most.
	query.WriteString(" AND deliveries.state = '" + DeliveryInFlight + "'")

	result := db.WithContext(ctx).Exec(query.String(), args...)
	if result.Error != nil {
		return fmt.Errorf("models: unable to complete %d deliveries: %w", len(sorted), result.Error)
	}
	if result.RowsAffected != int64(len(sorted)) {
		return fmt.Errorf("models: completed %d of %d deliveries; the others are not in flight", result.RowsAffected, len(sorted))
	}
	return nil
}

// optionalTime returns *t, or nil for a nil t, as a bound parameter.
func optionalTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return *t
}

// DeliveriesOf returns the deliveries of one subject, oldest first.
func DeliveriesOf(ctx context.Context, db *gorm.DB, subjectKind, subjectID string) ([]Delivery, error) {
	var deliveries []Delivery
	err := db.WithContext(ctx).Where("subject_kind = ? AND subject_id = ?", subjectKind, subjectID).
		Order("created_at, id").Find(&deliveries).Error
	if err != nil {
		return nil, fmt.Errorf("models: unable to read deliveries of %s %s: %w", subjectKind, subjectID, err)
	}
	return deliveries, nil
}

// DeliveryByID returns one delivery or ErrNotFound.
func DeliveryByID(ctx context.Context, db *gorm.DB, id string) (*Delivery, error) {
	var delivery Delivery
	err := db.WithContext(ctx).Where("id = ?", id).Take(&delivery).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("models: unable to read delivery %s: %w", id, err)
	}
	return &delivery, nil
}

// LastSuccessfulDelivery returns the newest successful delivery of subjectKey
// to connector completed at or after since, or nil. Duplicate suppression
// uses it: failed deliveries never suppress.
func LastSuccessfulDelivery(ctx context.Context, db *gorm.DB, subjectKind, subjectKey, connector string, since time.Time) (*Delivery, error) {
	var delivery Delivery
	err := db.WithContext(ctx).
		Where("subject_kind = ? AND subject_key = ? AND connector = ? AND success = ? AND completed_at >= ?",
			subjectKind, subjectKey, connector, true, since).
		Order("completed_at DESC").Limit(1).Take(&delivery).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("models: unable to read the last delivery of %s to %s: %w", subjectKey, connector, err)
	}
	return &delivery, nil
}

// EarliestInFlightDelivery returns the earliest delivery of subjectKey to
// connector that is still in flight and started at or after since, or nil.
// An alert send that holds the alert's send lease finds such a delivery only
// when the server that started it stopped before recording its outcome.
func EarliestInFlightDelivery(ctx context.Context, db *gorm.DB, subjectKind, subjectKey, connector string, since time.Time) (*Delivery, error) {
	var delivery Delivery
	err := db.WithContext(ctx).
		Where("subject_kind = ? AND subject_key = ? AND connector = ? AND state = ? AND started_at >= ?",
			subjectKind, subjectKey, connector, DeliveryInFlight, UTC(since)).
		Order("started_at, id").Limit(1).Take(&delivery).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("models: unable to read the deliveries of %s to %s still in flight: %w", subjectKey, connector, err)
	}
	return &delivery, nil
}

// DeliveryConnectorKinds returns the connector kind of each delivery in
// ids that exists, by delivery id.
func DeliveryConnectorKinds(ctx context.Context, db *gorm.DB, ids []string) (map[string]string, error) {
	kinds := make(map[string]string, len(ids))
	const batch = 500
	for start := 0; start < len(ids); start += batch {
		part := ids[start:min(start+batch, len(ids))]
		var rows []struct{ ID, ConnectorKind string }
		if err := db.WithContext(ctx).Model(&Delivery{}).Select("id, connector_kind").Where("id IN ?", part).Scan(&rows).Error; err != nil {
			return nil, fmt.Errorf("models: unable to read the connector kinds of %d deliveries: %w", len(part), err)
		}
		for _, row := range rows {
			kinds[row.ID] = row.ConnectorKind
		}
	}
	return kinds, nil
}

// LastDeliveryPerConnector returns the newest completed delivery of each
// connector, for the connector status page.
func LastDeliveryPerConnector(ctx context.Context, db *gorm.DB, connectors []string) (map[string]Delivery, error) {
	out := map[string]Delivery{}
	for _, name := range connectors {
		var delivery Delivery
		err := db.WithContext(ctx).Where("connector = ? AND state = ?", name, DeliveryCompleted).
			Order("created_at DESC").Limit(1).Take(&delivery).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("models: unable to read the last delivery to %s: %w", name, err)
		}
		out[name] = delivery
	}
	return out, nil
}

// DeliveryGroupKey names one (subject, destination) group of a subject kind.
type DeliveryGroupKey struct {
	SubjectID string
	Connector string
}

// InFlightSends returns, for the groups among subjectIDs of subjectKind
// that have a delivery other than a retry in flight since since, the start
// of the earliest one.
func InFlightSends(ctx context.Context, db *gorm.DB, subjectKind string, subjectIDs []string, since time.Time) (map[DeliveryGroupKey]time.Time, error) {
	out := map[DeliveryGroupKey]time.Time{}
	if len(subjectIDs) == 0 {
		return out, nil
	}
	var rows []struct {
		SubjectID string
		Connector string
		StartedAt time.Time
	}
	err := db.WithContext(ctx).Model(&Delivery{}).Select("subject_id, connector, started_at").
		Where("subject_kind = ? AND subject_id IN ? AND state = ? AND origin <> ? AND started_at >= ?",
			subjectKind, subjectIDs, DeliveryInFlight, OriginRetry, UTC(since)).
		Order("started_at").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("models: unable to read the deliveries under way of %s: %w", subjectKind, err)
	}
	for _, row := range rows {
		key := DeliveryGroupKey{SubjectID: row.SubjectID, Connector: row.Connector}
		if _, seen := out[key]; !seen {
			out[key] = row.StartedAt
		}
	}
	return out, nil
}

// DeliveryKey is one subject key, such as an alert fingerprint, and one
// destination, across every subject with that key.
type DeliveryKey struct {
	SubjectKey string
	Connector  string
}

// InFlightDeliveriesByKey returns, per subject key among subjectKeys and
// destination, when the earliest delivery still in flight there started,
// among the deliveries of any subject and origin started at or after since.
func InFlightDeliveriesByKey(ctx context.Context, db *gorm.DB, subjectKind string, subjectKeys []string, since time.Time) (map[DeliveryKey]time.Time, error) {
	out := map[DeliveryKey]time.Time{}
	if len(subjectKeys) == 0 {
		return out, nil
	}
	var rows []struct {
		SubjectKey string
		Connector  string
		StartedAt  time.Time
	}
	err := db.WithContext(ctx).Model(&Delivery{}).Select("subject_key, connector, started_at").
		Where("subject_kind = ? AND subject_key IN ? AND state = ? AND started_at >= ?",
			subjectKind, subjectKeys, DeliveryInFlight, UTC(since)).
		Order("started_at").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("models: unable to read the %s deliveries in flight by subject key: %w", subjectKind, err)
	}
	for _, row := range rows {
		key := DeliveryKey{SubjectKey: row.SubjectKey, Connector: row.Connector}
		if _, seen := out[key]; !seen {
			out[key] = UTC(row.StartedAt)
		}
	}
	return out, nil
}

// StaleSendDeliveries returns the in-flight deliveries of one subject kind
// that a send made, not a retry, created before the given time, oldest
// first. They are the sends of a server that stopped before recording.
func StaleSendDeliveries(ctx context.Context, db *gorm.DB, subjectKind string, createdBefore time.Time) ([]Delivery, error) {
	var deliveries []Delivery
	err := db.WithContext(ctx).
		Where("subject_kind = ? AND state = ? AND origin = ? AND created_at < ?", subjectKind, DeliveryInFlight, OriginSend, UTC(createdBefore)).
		Order("created_at, id").Find(&deliveries).Error
	if err != nil {
		return nil, fmt.Errorf("models: unable to read stale in-flight %s deliveries: %w", subjectKind, err)
	}
	return deliveries, nil
}

// StaleSendAfter is how long after it started a delivery made by a send
// from the console or the API, not by a retry, counts as cut short when it
// is still in flight. It is longer than the longest such send, six minutes
// and ten seconds with the largest send options, plus the two minutes an
// alert send may first wait for another send of the same alert.
const StaleSendAfter = 10 * time.Minute

// deliveryGroupLockName names the lock of one (subject, destination) group
// that sends to the group take while they check and record deliveries.
func deliveryGroupLockName(subjectKind, subjectID, connector string) string {
	return "delivery-group:" + subjectKind + ":" + subjectID + ":" + connector
}

// LockSendsUnderWay takes the transaction-scoped lock of each group, as
// LockDeliveriesUnderWay does, and returns, for the groups that have a
// delivery other than a retry in flight since since, the start of the
// earliest one. A retry claimed under these locks cannot meet a report
// delivery that committed a moment earlier.
func LockSendsUnderWay(tx *gorm.DB, subjectKind string, groups []DeliveryGroupKey, since time.Time) (map[DeliveryGroupKey]time.Time, error) {
	if len(groups) == 0 {
		return map[DeliveryGroupKey]time.Time{}, nil
	}
	names := make([]string, 0, len(groups))
	subjects := make([]string, 0, len(groups))
	for _, group := range groups {
		names = append(names, deliveryGroupLockName(subjectKind, group.SubjectID, group.Connector))
		subjects = append(subjects, group.SubjectID)
	}
	if err := lockNames(tx, names...); err != nil {
		return nil, fmt.Errorf("models: unable to lock the delivery groups of %s retries: %w", subjectKind, err)
	}
	return InFlightSends(tx.Statement.Context, tx, subjectKind, subjects, since)
}

// LockDeliveriesUnderWay takes a transaction-scoped lock on the group of
// each destination among connectors of one subject, so two sends to the
// same group check and record their deliveries in turn. It returns, per
// destination, when the earliest delivery still in flight there since
// since started.
func LockDeliveriesUnderWay(tx *gorm.DB, subjectKind, subjectID string, connectors []string, since time.Time) (map[string]time.Time, error) {
	names := make([]string, 0, len(connectors))
	for _, connector := range connectors {
		names = append(names, deliveryGroupLockName(subjectKind, subjectID, connector))
	}
	if err := lockNames(tx, names...); err != nil {
		return nil, fmt.Errorf("models: unable to lock the delivery groups of %s %s: %w", subjectKind, subjectID, err)
	}
	var rows []struct {
		Connector string
		StartedAt time.Time
	}
	err := tx.Model(&Delivery{}).Select("connector, started_at").
		Where("subject_kind = ? AND subject_id = ? AND connector IN ? AND state = ? AND started_at >= ?",
			subjectKind, subjectID, connectors, DeliveryInFlight, UTC(since)).
		Order("started_at").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("models: unable to read the deliveries under way of %s %s: %w", subjectKind, subjectID, err)
	}
	out := map[string]time.Time{}
	for _, row := range rows {
		if _, seen := out[row.Connector]; !seen {
			out[row.Connector] = UTC(row.StartedAt)
		}
	}
	return out, nil
}
