package handlers

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/releaseops/evidence-console/connectors"
)

// longRequestMargin is added to the longest send of a request, for the
// database work before and after it.
const longRequestMargin = time.Minute

// allowSlowResponse extends the deadline for writing the response of a
// request whose sends may take up to sends. Without it, the server's write
// timeout could close the connection before a request that sent and stored
// everything writes its response.
func (h *Handler) allowSlowResponse(c echo.Context, sends time.Duration) {
	err := http.NewResponseController(c.Response()).SetWriteDeadline(time.Now().Add(sends + longRequestMargin))
	if err != nil && !errors.Is(err, http.ErrNotSupported) {
		h.Logger.Warn("unable to extend the response write deadline", "path", c.Path(), "error", err)
	}
}

// allowSlowSend extends the write deadline for sends made with options, all
// at once, as a delivery to several destinations makes them.
func (h *Handler) allowSlowSend(c echo.Context, options connectors.SendOptions) {
	h.allowSlowResponse(c, options.MaxDuration())
}

// sendDuration returns how long one send with these options can take, all
// attempts and the pauses between them, such as "34s", for the hints
// beside the send buttons.
func sendDuration(retries int, timeoutSeconds float64) string {
	options := connectors.SendOptions{Retries: retries, Timeout: time.Duration(timeoutSeconds * float64(time.Second))}
	return options.MaxDuration().String()
}
