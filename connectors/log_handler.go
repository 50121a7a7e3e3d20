package connectors

import (
	"context"
	"encoding"
	"encoding/json"
	"fmt"
	"log/slog"
)

// LogHandler returns a handler that passes every record to next with the
// configured secrets removed from its message and from every string and
// error value, in any letter case. It is a last guard for values such as a
// username stored before its secret was configured. With no configured
// secret, and none expected while running, it returns next.
func (r *Redactor) LogHandler(next slog.Handler) slog.Handler {
	if len(r.current().typed) == 0 && !r.mayAddSecrets() {
		return next
	}
	return &secretLogHandler{next: next, secrets: r}
}

// secretLogHandler is the handler LogHandler returns.
type secretLogHandler struct {
	next    slog.Handler
	secrets *Redactor
}

func (h *secretLogHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

func (h *secretLogHandler) Handle(ctx context.Context, record slog.Record) error {
	message, _ := h.secrets.RemoveConfiguredSecrets(record.Message)
	clean := slog.NewRecord(record.Time, record.Level, message, record.PC)
	record.Attrs(func(attr slog.Attr) bool {
		clean.AddAttrs(h.cleanAttr(attr))
		return true
	})
	return h.next.Handle(ctx, clean)
}

func (h *secretLogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	clean := make([]slog.Attr, len(attrs))
	for i, attr := range attrs {
		clean[i] = h.cleanAttr(attr)
	}
	return &secretLogHandler{next: h.next.WithAttrs(clean), secrets: h.secrets}
}

func (h *secretLogHandler) WithGroup(name string) slog.Handler {
	return &secretLogHandler{next: h.next.WithGroup(name), secrets: h.secrets}
}

// cleanAttr removes configured secrets from a string value, the attributes
// of a group, and any other value as fmt prints it: an error, a list, a
// struct. A value that held a secret is logged as its cleaned text.
func (h *secretLogHandler) cleanAttr(attr slog.Attr) slog.Attr {
	value := attr.Value.Resolve()
	switch value.Kind() {
	case slog.KindString:
		if text, changed := h.secrets.RemoveConfiguredSecrets(value.String()); changed {
			return slog.String(attr.Key, text)
		}
	case slog.KindGroup:
		group := value.Group()
		clean := make([]any, len(group))
		for i, member := range group {
			clean[i] = h.cleanAttr(member)
		}
		return slog.Group(attr.Key, clean...)
	case slog.KindAny:
		for _, form := range printedForms(value.Any()) {
			if text, changed := h.secrets.RemoveConfiguredSecrets(form); changed {
				return slog.String(attr.Key, text)
			}
		}
	}
	return slog.Attr{Key: attr.Key, Value: value}
}

// printedForms returns the texts a text or JSON handler can print for
// value, the JSON encoding included, because it follows pointers. A form
// whose method panics, as one of a nil pointer can, is left out.
func printedForms(value any) []string {
	var forms []string
	add := func(form func() string) {
		defer func() { _ = recover() }()
		forms = append(forms, form())
	}
	switch v := value.(type) {
	case error:
		add(v.Error)
	case encoding.TextMarshaler:
		add(func() string {
			text, _ := v.MarshalText()
			return string(text)
		})
	case []byte:
		forms = append(forms, string(v))
	}
	add(func() string { return fmt.Sprintf("%+v", value) })
	add(func() string {
		encoded, _ := json.Marshal(value)
		return string(encoded)
	})
	return forms
}
