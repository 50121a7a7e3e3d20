package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/releaseops/evidence-console/audit"
	"github.com/releaseops/evidence-console/auth"
	"github.com/releaseops/evidence-console/models"
	"github.com/releaseops/evidence-console/views"
)

// chainKind checks the kind path parameter of an audit chain route; an
// unknown kind is a 404 that lists the kinds.
func chainKind(c echo.Context) (string, error) {
	kind := c.Param("kind")
	if !slices.Contains(audit.ChainKinds(), kind) {
		return "", notFound("no audit chain for kind %q; use one of %s", kind, strings.Join(audit.ChainKinds(), ", "))
	}
	return kind, nil
}

// chainError maps a chain lookup error: an unknown record is a 404 naming it.
func chainError(err error, kind, id string) error {
	if errors.Is(err, audit.ErrUnknownChainKind) {
		return notFound("no audit chain for kind %q", kind)
	}
	if errors.Is(err, models.ErrNotFound) {
		return notFound("%s %q not found", kind, id)
	}
	return err
}

// getAuditChain returns the whole chain behind one record as JSON.
func (h *Handler) getAuditChain(c echo.Context) error {
	if err := rejectUnknownQuery(c); err != nil {
		return err
	}
	kind, err := chainKind(c)
	if err != nil {
		return err
	}
	id := c.Param("id")
	chain, err := h.chain(c, kind, id)
	if err != nil {
		return chainError(err, kind, id)
	}
	return c.JSON(http.StatusOK, chain)
}

// executiveDetailHidden replaces the detail of an executive report link for
// a role that may not read executive reports.
const executiveDetailHidden = "reading the report's figures needs the executive_report.read permission"

// chain returns the chain behind one record as the signed-in role may see
// it. The figures of an executive report are part of the report, so for a
// role without executive_report.read the report's link keeps its level and
// actor but its detail is replaced.
func (h *Handler) chain(c echo.Context, kind, id string) (audit.Chain, error) {
	chain, err := h.Audit.Chain(c.Request().Context(), kind, id)
	if err != nil || auth.Role(pageContext(c).UserRole).Can(auth.PermissionReadExecutive) {
		return chain, err
	}
	for i, link := range chain.Links {
		if link.Kind == models.HistoryExecutiveReport && link.Detail != "" {
			chain.Links[i].Detail = executiveDetailHidden
		}
	}
	return chain, nil
}

// auditChainPage shows the chain behind one record, each linked record
// linking to its own chain page.
func (h *Handler) auditChainPage(c echo.Context) error {
	if err := rejectUnknownQuery(c); err != nil {
		return err
	}
	kind, err := chainKind(c)
	if err != nil {
		return err
	}
	id := c.Param("id")
	chain, err := h.chain(c, kind, id)
	if err != nil {
		return chainError(err, kind, id)
	}
	v := views.AuditChainView{Kind: chain.Kind, ID: chain.ID, Missing: chain.Missing,
		JSONHref: runtimePrefix + "/audit/" + url.PathEscape(kind) + "/" + url.PathEscape(id)}
	mayReadReports := auth.Role(pageContext(c).UserRole).Can(auth.PermissionReadExecutive)
	for _, link := range chain.Links {
		row := views.AuditLinkView{
			Kind: link.Kind, ID: link.ID, Relation: link.Relation, At: views.FormatTime(link.At, h.TimeZone),
			Actor: link.Actor, Provider: link.Provider, Status: link.Status, Detail: link.Detail,
			IdempotencyKey: link.IdempotencyKey,
		}
		switch {
		case link.Kind == chain.Kind && link.ID == chain.ID:
		case link.AuditKind != "":
			row.Href = "/audit/" + url.PathEscape(link.AuditKind) + "/" + url.PathEscape(link.ID)
		case link.Kind == models.HistoryRetryWorkerRun:
			row.Href = "/retries/runs/" + url.PathEscape(link.ID)
		case link.Kind == models.HistoryRetryPlan:
			row.Href = "/retries/plans/" + url.PathEscape(link.ID)
		case link.Kind == models.HistoryExecutiveReport && mayReadReports:
			row.Href = "/executive/reports/" + url.PathEscape(link.ID)
		}
		v.Links = append(v.Links, row)
	}
	return render(c, http.StatusOK, views.AuditChainPage(pageContext(c), v))
}

// exportQuery reads from, to (RFC 3339, required) and kinds (optional,
// comma-separated) strictly. An absent or empty kinds means every kind, as
// an empty query parameter counts as absent everywhere.
func exportQuery(c echo.Context) (audit.ExportQuery, error) {
	if err := rejectUnknownQuery(c, "from", "to", "kinds"); err != nil {
		return audit.ExportQuery{}, err
	}
	values := c.QueryParams()
	var q audit.ExportQuery
	for _, field := range []struct {
		name   string
		target *time.Time
	}{{"from", &q.From}, {"to", &q.To}} {
		raw := values.Get(field.name)
		if raw == "" {
			return q, fieldError(field.name, "%s is required: send an RFC 3339 time such as 2026-05-01T00:00:00Z", field.name)
		}
		parsed, err := time.Parse(time.RFC3339, raw)
		if err != nil {
			return q, fieldError(field.name, "%s must be an RFC 3339 time such as 2026-05-01T00:00:00Z; got %q", field.name, raw)
		}
		// No record is older than the Unix epoch, and the zero time
		// would read as a missing value.
		if parsed.Year() < 1970 {
			return q, fieldError(field.name, "%s must be a time from 1970 on, such as 2026-05-01T00:00:00Z; got %q", field.name, raw)
		}
		*field.target = parsed
	}
	if raw := values.Get("kinds"); strings.TrimSpace(raw) != "" {
		for _, kind := range strings.Split(raw, ",") {
			kind = strings.TrimSpace(kind)
			if kind == "" {
				return q, fieldError("kinds", "kinds must be a comma-separated list of %s without empty entries; got %q",
					strings.Join(audit.ExportKinds(), ", "), raw)
			}
			q.Kinds = append(q.Kinds, kind)
		}
	}
	return q, q.Validate()
}

// exportEvidence streams a zip archive of the stored records in the range:
// one JSON Lines file per kind and a manifest.json with each file's row
// count and SHA-256. Parameters are checked before anything is written. An
// error after the download started cannot change the status, so it is
// logged and the archive ends without its manifest.
//
// NOTE: the server's WriteTimeout (5 minutes in cmd/evidence-console) also
// bounds a download. A very large range over a slow link can be cut short,
// and the missing manifest then shows it.
func (h *Handler) exportEvidence(c echo.Context) error {
	q, err := exportQuery(c)
	if err != nil {
		return auditError(err)
	}
	return h.streamExport(c, q)
}

// exportEvidenceDays downloads the whole days that the history page's
// export form names: from the start of from_date to the end of to_date in
// the console's time zone. Each ticked kind comes as its own kinds
// parameter; none ticked means every kind.
func (h *Handler) exportEvidenceDays(c echo.Context) error {
	q, err := exportDaysQuery(c, h.TimeZone)
	var fieldErr *APIError
	if errors.As(err, &fieldErr) && fieldErr.Status == http.StatusBadRequest && !wantsJSON(c) {
		return h.historyWithExportError(c, shortened(fieldErr, h.Secrets))
	}
	if err != nil {
		return auditError(err)
	}
	return h.streamExport(c, q)
}

// historyWithExportError shows the History page again with the export form
// as submitted and the error beside it, so the user can correct the days.
func (h *Handler) historyWithExportError(c echo.Context, fieldErr *APIError) error {
	q := audit.HistoryQuery{Limit: audit.DefaultHistoryLimit}
	page, err := h.Audit.History(c.Request().Context(), q)
	if err != nil {
		return auditError(err)
	}
	view := h.historyView(q, page)
	view.Export = h.exportFormView(c)
	values := c.QueryParams()
	if utf8.ValidString(values.Get("from_date")) && utf8.ValidString(values.Get("to_date")) {
		view.Export.FromDate, view.Export.ToDate = values.Get("from_date"), values.Get("to_date")
	}
	view.Export.Checked = values["kinds"]
	view.Export.Error, view.Export.ErrorField = formMessage("/history/export", fieldErr)
	return render(c, fieldErr.Status, views.HistoryPage(pageContext(c), view))
}

// exportDaysQuery reads the export form's fields strictly.
func exportDaysQuery(c echo.Context, zone *time.Location) (audit.ExportQuery, error) {
	accepted := []string{"from_date", "to_date", "kinds"}
	values := c.QueryParams()
	if names := unknownNames(values, accepted); len(names) > 0 {
		return audit.ExportQuery{}, fieldError(names[0], "%s %s of the export form; remove %s, or use one of %s",
			joinNames(names), pluralOf(names, "is not a field", "are not fields"), pluralOf(names, "it", "them"), strings.Join(accepted, ", "))
	}
	for _, name := range accepted[:2] {
		if count := len(values[name]); count > 1 {
			return audit.ExportQuery{}, fieldError(name, "%s is given %d times; send it once", name, count)
		}
	}

	var days [2]time.Time
	for i, name := range accepted[:2] {
		raw := strings.TrimSpace(values.Get(name))
		if raw == "" {
			return audit.ExportQuery{}, fieldError(name, "%s is required: pick a day such as 2026-05-01", name)
		}
		day, err := time.ParseInLocation(time.DateOnly, raw, zone)
		if err != nil {
			return audit.ExportQuery{}, fieldError(name, "%s is not a day: %q; send YYYY-MM-DD, such as 2026-05-01", name, raw)
		}
		if day.Year() < 1970 || day.Year() > 9998 {
			return audit.ExportQuery{}, fieldError(name, "%s must be a day from 1970 to 9998; got %s", name, raw)
		}
		days[i] = day
	}
	if days[1].Before(days[0]) {
		return audit.ExportQuery{}, fieldError("to_date", "to_date %s is before from_date %s; pick a later day",
			days[1].Format(time.DateOnly), days[0].Format(time.DateOnly))
	}
	end := days[1].AddDate(0, 0, 1)
	if end.Sub(days[0]) > audit.MaxExportRange {
		return audit.ExportQuery{}, fieldError("to_date", "from_date %s to to_date %s is more than %d days; export it in parts",
			days[0].Format(time.DateOnly), days[1].Format(time.DateOnly), int(audit.MaxExportRange.Hours()/24))
	}

	// Ticked kinds come one per parameter; a typed list may use commas.
	var kinds []string
	for _, value := range values["kinds"] {
		for kind := range strings.SplitSeq(value, ",") {
			if kind = strings.TrimSpace(kind); kind != "" {
				kinds = append(kinds, kind)
			}
		}
	}
	q := audit.ExportQuery{From: days[0], To: end, Kinds: kinds}
	err := q.Validate()
	// The range rules name the API's from and to; the form's fields are days.
	var fieldErr *audit.FieldError
	if errors.As(err, &fieldErr) && (fieldErr.Field == "from" || fieldErr.Field == "to") {
		fieldErr.Field += "_date"
	}
	return q, err
}

// streamExport writes the export of q, already validated, as a zip
// download.
func (h *Handler) streamExport(c echo.Context, q audit.ExportQuery) error {
	name := fmt.Sprintf("evidence-export-%s-%s.zip", q.From.UTC().Format("20060102T150405Z"), q.To.UTC().Format("20060102T150405Z"))
	header := c.Response().Header()
	header.Set(echo.HeaderContentType, "application/zip")
	header.Set(echo.HeaderContentDisposition, fmt.Sprintf("attachment; filename=%q", name))
	header.Set("Cache-Control", "no-store")
	c.Response().WriteHeader(http.StatusOK)

	manifest, err := h.Audit.Export(c.Request().Context(), c.Response(), q)
	if err != nil {
		h.Logger.Error("evidence export failed after the download started", "error", err,
			"from", q.From, "to", q.To, "kinds", q.Kinds, "actor", actorName(c))
		return nil
	}
	var rows int64
	for _, file := range manifest.Files {
		rows += file.Rows
	}
	h.Logger.Info("evidence exported", "from", q.From, "to", q.To, "files", len(manifest.Files), "rows", rows, "actor", actorName(c))
	return nil
}
