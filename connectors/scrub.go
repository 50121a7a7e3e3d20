package connectors

import (
	"encoding/json"
	"slices"
)

// withoutSecrets returns msg with every configured secret replaced in its
// text and payload. Evidence is checked for configured secrets when it is
// ingested, but records stored before a secret was configured, or written
// to the database by other means, can still carry one into a message. It
// reports whether anything was replaced.
func (r *Redactor) withoutSecrets(msg Message) (Message, bool) {
	if len(r.current().typed) == 0 {
		return msg, false
	}
	changed := false
	clean := func(text string) string {
		cleaned, found := r.RemoveConfiguredSecrets(text)
		changed = changed || found
		return cleaned
	}

	msg.Title, msg.Summary, msg.LinkText = clean(msg.Title), clean(msg.Summary), clean(msg.LinkText)
	msg.Facts = slices.Clone(msg.Facts)
	for i, fact := range msg.Facts {
		msg.Facts[i] = Fact{Label: clean(fact.Label), Value: clean(fact.Value)}
	}
	msg.Items = slices.Clone(msg.Items)
	for i, item := range msg.Items {
		msg.Items[i] = Item{Severity: clean(item.Severity), Title: clean(item.Title), Detail: clean(item.Detail)}
	}
	if msg.Payload != nil {
		msg.Payload = r.payloadWithoutSecrets(msg.Payload, &changed)
	}
	return msg, changed
}

// RemoveConfiguredSecrets returns text with every configured secret and
// every run of one (see secretRunLength), in any letter case, replaced by
// "[redacted]", and whether it held one. When a secret or run is spelled in
// a way the replacer does not know, such as split by invisible characters,
// the whole text becomes "[redacted]".
func (r *Redactor) RemoveConfiguredSecrets(text string) (string, bool) {
	text, foundWhole := r.removeWholeSecrets(text)
	text, foundRun := r.removeSecretRuns(text)
	return text, foundWhole || foundRun
}

// removeWholeSecrets is RemoveConfiguredSecrets for whole secrets only.
func (r *Redactor) removeWholeSecrets(text string) (string, bool) {
	forms := r.current().typedLower
	if !containsForm(text, forms, true) {
		return text, false
	}
	replaced := r.replaceWholeSecretsIgnoringCase(text)
	if containsForm(replaced, forms, true) {
		return Redacted, true
	}
	return replaced, true
}

// removeSecretRuns is RemoveConfiguredSecrets for runs of secrets only.
func (r *Redactor) removeSecretRuns(text string) (string, bool) {
	if !r.hasSecretRun(text) {
		return text, false
	}
	replaced := r.current().runs.replace(text)
	if r.hasSecretRun(replaced) {
		return Redacted, true
	}
	return replaced, true
}

// replaceSecretsIgnoringCase replaces every configured secret and every
// run of one, in any letter case, by "[redacted]".
func (r *Redactor) replaceSecretsIgnoringCase(text string) string {
	return r.current().runs.replace(r.replaceWholeSecretsIgnoringCase(text))
}

func (r *Redactor) replaceWholeSecretsIgnoringCase(text string) string {
	text = r.replaceSecrets(text)
	caseless := r.current().caseless
	if caseless == nil {
		return text
	}
	return caseless.ReplaceAllLiteralString(text, Redacted)
}

// payloadWithoutSecrets replaces the configured secrets in the JSON form of
// payload. A payload that cannot be encoded is returned unchanged, because
// the send reports that error itself.
func (r *Redactor) payloadWithoutSecrets(payload map[string]any, changed *bool) map[string]any {
	encoded, err := json.Marshal(payload)
	if err != nil || !r.HasConfiguredSecretIgnoringCase(string(encoded)) {
		return payload
	}
	*changed = true
	var cleaned map[string]any
	if err := json.Unmarshal([]byte(r.replaceSecretsIgnoringCase(string(encoded))), &cleaned); err == nil {
		if again, err := json.Marshal(cleaned); err == nil && !r.HasConfiguredSecretIgnoringCase(string(again)) {
			return cleaned
		}
	}
	// The secret survived the replacer in an encoding it does not know.
	return map[string]any{"redacted": "the payload held a configured secret and was left out"}
}
