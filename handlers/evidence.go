package handlers

import (
	"encoding/json"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/releaseops/evidence-console/auth"
)

func (h *Handler) registerEvidenceRoutes(e *echo.Echo) {
	h.route(e, http.MethodPost, runtimePrefix+"/evidence", h.ingestEvidence, auth.PermissionIngestEvidence)
}

// ingestEvidence stores {"records": [ … ]}. Valid records land even when
// others are rejected; the response lists each rejection by index and field.
// Only a batch in which nothing could be stored is a 422.
func (h *Handler) ingestEvidence(c echo.Context) error {
	var body struct {
		Records *[]json.RawMessage `json:"records"`
	}
	if err := decodeJSONBody(c, &body); err != nil {
		return err
	}
	if body.Records == nil {
		return fieldError("records", `records is missing; send {"records": [ … ]}`)
	}

	result, err := h.Evidence.Ingest(c.Request().Context(), *body.Records)
	if err != nil {
		return err
	}

	status := http.StatusOK
	if len(result.Rejected) > 0 && result.Inserted == 0 && result.Duplicates == 0 {
		status = http.StatusUnprocessableEntity
	}
	return c.JSON(status, result)
}
