package handlers

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"
)

// formContentTypes are the body types a browser form posts.
var formContentTypes = []string{echo.MIMEApplicationForm, echo.MIMEMultipartForm}

// readForm returns the form fields of a POST body after checking them
// strictly. The body must be a form, so a JSON or text body gets a 415
// instead of being ignored. The query must be empty, every field must be
// one of accepted or the CSRF field, and each field may be given once,
// except those in repeatable, such as a group of checkboxes. A request
// without a body and without a Content-Type has no fields.
func readForm(c echo.Context, accepted []string, repeatable ...string) (url.Values, error) {
	if err := rejectUnknownQuery(c); err != nil {
		var apiErr *APIError
		if errors.As(err, &apiErr) {
			apiErr.Message += ", or send it as a form field"
		}
		return nil, err
	}

	request := c.Request()
	mediaType, _, _ := mime.ParseMediaType(request.Header.Get(echo.HeaderContentType))
	if !slices.Contains(formContentTypes, mediaType) {
		if mediaType == "" && request.ContentLength == 0 {
			return url.Values{}, nil
		}
		return nil, unsupportedFormType(mediaType)
	}
	if _, err := c.FormParams(); err != nil {
		if bodyTooLarge(err) {
			return nil, echo.ErrStatusRequestEntityTooLarge
		}
		return nil, &APIError{Status: http.StatusBadRequest, Code: CodeMalformedBody,
			Message: "request body is not a valid form; send application/x-www-form-urlencoded fields"}
	}

	// PostForm contains the body's fields without the query's.
	form := url.Values{}
	for name, values := range request.PostForm {
		form[name] = values
	}
	// A file part is a field too, though PostForm leaves it out.
	if request.MultipartForm != nil {
		for name := range request.MultipartForm.File {
			form[name] = append(form[name], "(file)")
		}
	}

	if err := rejectUnknownFormFields(form, accepted); err != nil {
		return nil, err
	}
	single := url.Values{}
	for name, values := range form {
		if !slices.Contains(repeatable, name) {
			single[name] = values
		}
	}
	// A form field may hold a password or free text, so its values are
	// never quoted back.
	if err := rejectRepeated(single, false); err != nil {
		return nil, err
	}
	return form, nil
}

// unsupportedFormType is the 415 of a body that is not a form.
func unsupportedFormType(mediaType string) *APIError {
	declared := "has no Content-Type"
	if mediaType != "" {
		declared = fmt.Sprintf("is declared as %.60s", mediaType)
	}
	return &APIError{Status: http.StatusUnsupportedMediaType, Code: CodeMalformedBody,
		Message: fmt.Sprintf("request body %s; this route reads form fields only, so send them with Content-Type: %s", declared, echo.MIMEApplicationForm),
		Details: map[string]any{"accepted_content_types": formContentTypes}}
}

// rejectUnknownFormFields returns a 400 naming every field, in sorted
// order, that is neither one of accepted nor the CSRF field. The error's
// field is the first of them. The error lists the accepted fields in its
// message and in details.accepted_fields.
func rejectUnknownFormFields(form url.Values, accepted []string) error {
	names := unknownNames(form, append([]string{csrfFormField}, accepted...))
	if len(names) == 0 {
		return nil
	}
	listed := joinNames(names)
	apiErr := fieldError(names[0], "%s %s of this form; remove %s, or use one of %s",
		listed, pluralOf(names, "is not a field", "are not fields"), pluralOf(names, "it", "them"), strings.Join(accepted, ", "))
	if len(accepted) == 0 {
		apiErr.Message = fmt.Sprintf("%s %s of this form, which takes none; remove %s",
			listed, pluralOf(names, "is not a field", "are not fields"), pluralOf(names, "it", "them"))
	}
	apiErr.Details = map[string]any{"accepted_fields": append([]string{}, accepted...)}
	return apiErr
}
