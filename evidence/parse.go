package evidence

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/releaseops/evidence-console/connectors"
	"github.com/releaseops/evidence-console/models"
)

// parsed is one valid record, ready to store.
type parsed struct {
	kind     string
	id       string
	plan     *models.EscalationRetryPlan
	run      *models.EscalationWorkerRun
	exec     *models.EscalationRetryExecution
	delivery *models.EscalationDelivery
	audit    *models.AuditRetryExecution
	playbook *models.RecoveryPlaybook
	entries  []models.RecoveryPlaybookProvider
	closure  *models.RecoveryClosure
}

// errSkip marks a record of a kind this application does not ingest.
type errSkip struct{ kind string }

func (e errSkip) Error() string { return "unknown kind " + e.kind }

// parseItem validates one record and converts it to its typed row, whose raw
// copy has secrets, the configured ones included, redacted. It returns
// errSkip for unknown kinds and *FieldError for invalid records.
func parseItem(it item, now time.Time, secrets *connectors.Redactor) (*parsed, error) {
	kind, err := it.text("metadata_kind")
	if err != nil {
		return nil, err
	}
	session, err := it.optionalText("session_id")
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(scrub(map[string]any(it), secrets))
	if err != nil {
		return nil, &FieldError{Field: "metadata_kind", Problem: "could not be stored: " + err.Error()}
	}

	switch kind {
	case KindEscalationRetryPlan:
		return parseRetryPlan(it, session, string(raw), now)
	case KindEscalationWorkerRun:
		return parseWorkerRun(it, session, string(raw), now)
	case KindEscalationRetryExecution:
		return parseEscalationExecution(it, session, string(raw), now)
	case KindAuditRetryExecution:
		return parseAuditExecution(it, session, string(raw), now)
	case KindRecoveryPlaybook:
		return parsePlaybook(it, session, string(raw), now)
	case KindRecoveryClosure:
		return parseClosure(it, session, string(raw), now)
	case KindConnectorDelivery:
		source, err := it.text("connector_delivery_source")
		if err != nil {
			return nil, err
		}
		if source != EscalationDeliverySource {
			return nil, errSkip{kind: kind + " (source " + source + ")"}
		}
		return parseEscalationDelivery(it, session, string(raw), now, secrets)
	}
	return nil, errSkip{kind: kind}
}

func parseRetryPlan(it item, session, raw string, now time.Time) (*parsed, error) {
	id, err := it.text("retry_plan_id")
	if err != nil {
		return nil, err
	}
	retryable, err := it.count(it.firstPresent("retryable_count", "recovery_escalation_delivery_retry_plan.retryable_count"))
	if err != nil {
		return nil, err
	}
	created, err := it.timestamp("created_at", now)
	if err != nil {
		return nil, err
	}
	return &parsed{kind: KindEscalationRetryPlan, id: id, plan: &models.EscalationRetryPlan{
		ID: id, SessionID: session, RetryableCount: retryable, CreatedAt: created, IngestedAt: now, Raw: raw,
	}}, nil
}

const workerRunKey = "recovery_escalation_retry_worker_run"

func parseWorkerRun(it item, session, raw string, now time.Time) (*parsed, error) {
	id, err := it.text("run_id")
	if err != nil {
		return nil, err
	}
	dryRun, err := it.boolean(it.firstPresent("dry_run", workerRunKey+".dry_run"))
	if err != nil {
		return nil, err
	}
	created, err := it.timestamp("created_at", now)
	if err != nil {
		return nil, err
	}
	selected, err := it.count(workerRunKey + ".summary.selected_retry_count")
	if err != nil {
		return nil, err
	}
	pending, err := it.count(workerRunKey + ".summary.acknowledgement_pending_count")
	if err != nil {
		return nil, err
	}
	enabled, err := it.boolean(workerRunKey + ".schedule.enabled")
	if err != nil {
		return nil, err
	}
	return &parsed{kind: KindEscalationWorkerRun, id: id, run: &models.EscalationWorkerRun{
		ID: id, SessionID: session, DryRun: dryRun, SelectedRetryCount: selected,
		AcknowledgementPendingCount: pending, ScheduleEnabled: enabled,
		CreatedAt: created, IngestedAt: now, Raw: raw,
	}}, nil
}

func executionStatus(it item) (string, error) {
	status, err := it.text("execution_status")
	if err != nil {
		return "", err
	}
	switch status {
	case StatusDelivered, StatusFailed, StatusSkipped:
		return status, nil
	}
	return "", &FieldError{Field: "execution_status", Problem: "must be delivered, failed or skipped"}
}

func parseEscalationExecution(it item, session, raw string, now time.Time) (*parsed, error) {
	id, err := it.text("execution_id")
	if err != nil {
		return nil, err
	}
	planID, err := it.text("plan_id")
	if err != nil {
		return nil, err
	}
	provider, err := it.text("provider")
	if err != nil {
		return nil, err
	}
	status, err := executionStatus(it)
	if err != nil {
		return nil, err
	}
	created, err := it.timestamp("created_at", now)
	if err != nil {
		return nil, err
	}
	return &parsed{kind: KindEscalationRetryExecution, id: id, exec: &models.EscalationRetryExecution{
		ID: id, SessionID: session, PlanID: planID, Provider: provider, ExecutionStatus: status,
		CreatedAt: created, IngestedAt: now, Raw: raw,
	}}, nil
}

func parseAuditExecution(it item, session, raw string, now time.Time) (*parsed, error) {
	id, err := it.text("execution_id")
	if err != nil {
		return nil, err
	}
	provider, err := it.text("provider")
	if err != nil {
		return nil, err
	}
	status, err := executionStatus(it)
	if err != nil {
		return nil, err
	}
	executed, err := it.timestamp("executed_at", now)
	if err != nil {
		return nil, err
	}
	return &parsed{kind: KindAuditRetryExecution, id: id, audit: &models.AuditRetryExecution{
		ID: id, SessionID: session, Provider: provider, ExecutionStatus: status,
		ExecutedAt: executed, IngestedAt: now, Raw: raw,
	}}, nil
}

const playbookKey = "connector_recovery_playbook"

// maxPlaybookEntries is the maximum number of provider and category pairs
// in one playbook. It bounds the rows one record adds, and it is an
// estimate well above the destinations times failure categories of a
// deployment.
const maxPlaybookEntries = 5000

func parsePlaybook(it item, session, raw string, now time.Time) (*parsed, error) {
	id, err := it.text("playbook_id")
	if err != nil {
		return nil, err
	}
	generated, err := it.timestamp("generated_at", now)
	if err != nil {
		return nil, err
	}

	listPath := it.firstPresent(playbookKey+".provider_playbooks", "provider_playbooks")
	value, ok := it.lookup(listPath)
	if !ok {
		return nil, &FieldError{Field: listPath, Problem: "is missing"}
	}
	list, ok := value.([]any)
	if !ok {
		return nil, &FieldError{Field: listPath, Problem: "must be a list of {provider, category, failure_count}"}
	}
	if len(list) > maxPlaybookEntries {
		return nil, &FieldError{Field: listPath, Problem: fmt.Sprintf("has %d entries; send at most %d, one for each provider and category pair", len(list), maxPlaybookEntries)}
	}

	entries := make([]models.RecoveryPlaybookProvider, 0, len(list))
	seen := map[[2]string]bool{}
	for i, element := range list {
		object, ok := element.(map[string]any)
		if !ok {
			return nil, &FieldError{Field: listPath, Problem: "must be a list of {provider, category, failure_count}"}
		}
		entry := item(object)
		prefix := listPath + "[" + strconv.Itoa(i) + "]."
		provider, err := entry.text("provider")
		if err != nil {
			return nil, prefixed(prefix, err)
		}
		category, err := entry.text("category")
		if err != nil {
			return nil, prefixed(prefix, err)
		}
		failures, err := entry.count("failure_count")
		if err != nil {
			return nil, prefixed(prefix, err)
		}
		key := [2]string{provider, category}
		if seen[key] {
			return nil, &FieldError{Field: prefix + "provider", Problem: "repeats provider " + provider + " with category " + category}
		}
		seen[key] = true
		entries = append(entries, models.RecoveryPlaybookProvider{
			PlaybookID: id, Provider: provider, Category: category, FailureCount: failures, GeneratedAt: generated,
		})
	}
	return &parsed{kind: KindRecoveryPlaybook, id: id, entries: entries, playbook: &models.RecoveryPlaybook{
		ID: id, SessionID: session, GeneratedAt: generated, IngestedAt: now, Raw: raw,
	}}, nil
}

func parseClosure(it item, session, raw string, now time.Time) (*parsed, error) {
	id, err := it.text("closure_id")
	if err != nil {
		return nil, err
	}
	playbookID, err := it.text("playbook_id")
	if err != nil {
		return nil, err
	}
	provider, err := it.text("provider")
	if err != nil {
		return nil, err
	}
	state, err := it.text("closure_state")
	if err != nil {
		return nil, err
	}
	// Closure states are matched without regard to case, so RESOLVED
	// closes a recovery as resolved does.
	state = strings.ToLower(state)
	closed, err := it.timestamp("closed_at", now)
	if err != nil {
		return nil, err
	}
	return &parsed{kind: KindRecoveryClosure, id: id, closure: &models.RecoveryClosure{
		ID: id, SessionID: session, PlaybookID: playbookID, Provider: provider, ClosureState: state,
		ClosedAt: closed, IngestedAt: now, Raw: raw,
	}}, nil
}

func parseEscalationDelivery(it item, session, raw string, now time.Time, secrets *connectors.Redactor) (*parsed, error) {
	id, err := it.optionalText(it.firstPresent("delivery_id", "id"))
	if err != nil {
		return nil, err
	}
	if id == "" {
		// Without an id of its own, a delivery is identified by its content so
		// importing the same export twice stores it once.
		sum := sha256.Sum256([]byte(raw))
		id = "edl_" + hex.EncodeToString(sum[:12])
	}
	success, err := it.boolean("delivery_success")
	if err != nil {
		return nil, err
	}
	created, err := it.timestamp("created_at", now)
	if err != nil {
		return nil, err
	}
	providers, err := it.stringList("providers")
	if err != nil {
		return nil, err
	}
	failed, err := it.stringList("failed_providers")
	if err != nil {
		return nil, err
	}
	codes := map[string]any{}
	if value, ok := it.lookup("status_codes"); ok {
		switch v := value.(type) {
		case map[string]any:
			for provider, code := range v {
				if err := checkText("status_codes", provider); err != nil {
					return nil, err
				}
				if err := checkStatusCode("status_codes."+provider, code); err != nil {
					return nil, err
				}
				codes[provider] = scrub(code, secrets)
			}
		case []any:
			for i, code := range v {
				if err := checkStatusCode(fmt.Sprintf("status_codes[%d]", i), code); err != nil {
					return nil, err
				}
				codes[strconv.Itoa(i)] = scrub(code, secrets)
			}
		default:
			return nil, &FieldError{Field: "status_codes", Problem: "must be an object of provider to status code"}
		}
	}
	sort.Strings(providers)
	sort.Strings(failed)
	providersJSON, _ := json.Marshal(providers)
	failedJSON, _ := json.Marshal(failed)
	codesJSON, _ := json.Marshal(codes)
	return &parsed{kind: KindConnectorDelivery, id: id, delivery: &models.EscalationDelivery{
		ID: id, SessionID: session, DeliverySuccess: success, Providers: string(providersJSON),
		FailedProviders: string(failedJSON), StatusCodes: string(codesJSON),
		CreatedAt: created, IngestedAt: now, Raw: raw,
	}}, nil
}

// statusTextPattern matches a status code given as text: the digits and an
// optional reason phrase of at most 60 letters, spaces, apostrophes and
// hyphens, such as "503 Service Unavailable".
var statusTextPattern = regexp.MustCompile(`^\s*(\d{1,3})(?:[ \t]+([A-Za-z][A-Za-z' -]{0,59}))?\s*$`)

// checkStatusCode accepts an HTTP status code from 100 to 599, as a number
// or as a string that starts with one, such as "503 Service Unavailable".
// Null, an empty string and 0 stand for a destination that gave no
// response.
func checkStatusCode(field string, code any) error {
	reject := func(got string) error {
		return &FieldError{Field: field, Problem: "must be an HTTP status code from 100 to 599, or 0 or null for no response; got " + got}
	}
	var n float64
	switch v := code.(type) {
	case nil:
		return nil
	case json.Number:
		parsed, err := v.Float64()
		if err != nil {
			return reject(truncate(v.String(), 40))
		}
		n = parsed
	case float64:
		n = v
	case string:
		if strings.TrimSpace(v) == "" {
			return nil
		}
		match := statusTextPattern.FindStringSubmatch(v)
		if match == nil {
			return reject(strconv.Quote(truncate(v, 40)))
		}
		parsed, _ := strconv.Atoi(match[1])
		if parsed == 0 && match[2] != "" {
			// A reason phrase claims a response, which code 0 denies.
			return reject(strconv.Quote(truncate(v, 40)))
		}
		n = float64(parsed)
	case bool:
		return reject(strconv.FormatBool(v))
	case []any:
		return reject("a list")
	default:
		return reject("an object")
	}
	if n != math.Trunc(n) || (n != 0 && (n < 100 || n > 599)) {
		return reject(strconv.FormatFloat(n, 'g', -1, 64))
	}
	return nil
}

func prefixed(prefix string, err error) error {
	if fieldErr, ok := err.(*FieldError); ok {
		return &FieldError{Field: prefix + fieldErr.Field, Problem: fieldErr.Problem}
	}
	return err
}
