package main

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"
)

// problem is an RFC 9457 problem details body: every error the API answers.
type problem struct {
	Type   string         `json:"type" doc:"A URI naming the kind of problem."`
	Title  string         `json:"title" doc:"A short summary of the kind of problem."`
	Status int            `json:"status" doc:"The HTTP status code."`
	Detail string         `json:"detail,omitempty" doc:"What went wrong this time."`
	Errors []fieldProblem `json:"errors,omitempty" doc:"The fields that are wrong, for validation problems."`
}

// fieldProblem names one wrong field of a request.
type fieldProblem struct {
	Field   string `json:"field" doc:"The field, as a dotted path in the body, or the query parameter or header name."`
	Message string `json:"message" doc:"What is wrong with it."`
}

func (p *problem) Error() string  { return p.Detail }
func (p *problem) GetStatus() int { return p.Status }

// ContentType answers application/problem+json for JSON, as RFC 9457 asks.
func (p *problem) ContentType(ct string) string {
	if ct == "application/json" {
		return "application/problem+json"
	}
	return ct
}

// problemTypes names each status's kind of problem.
var problemTypes = map[int]string{
	http.StatusBadRequest:            "malformed-request",
	http.StatusUnauthorized:          "unauthenticated",
	http.StatusForbidden:             "forbidden",
	http.StatusNotFound:              "not-found",
	http.StatusConflict:              "conflict",
	http.StatusRequestEntityTooLarge: "body-too-large",
	http.StatusUnsupportedMediaType:  "unsupported-media-type",
	http.StatusUnprocessableEntity:   "invalid-fields",
	http.StatusTooManyRequests:       "rate-limited",
	http.StatusServiceUnavailable:    "dependency-unavailable",
}

func newProblem(status int, detail string, fields ...fieldProblem) *problem {
	kind, ok := problemTypes[status]
	if !ok {
		kind = strings.ToLower(strings.ReplaceAll(http.StatusText(status), " ", "-"))
	}
	return &problem{Type: "urn:handoff:problem:" + kind, Title: http.StatusText(status), Status: status,
		Detail: detail, Errors: fields}
}

// humaError turns huma's own errors (validation, body parsing, limits)
// into problems. Unknown body fields are a malformed request here (400),
// not a validation failure (huma's 422), and take precedence.
func humaError(status int, msg string, errs ...error) huma.StatusError {
	var fields, unknown []fieldProblem
	for _, err := range errs {
		if err == nil {
			continue
		}
		d := &huma.ErrorDetail{Message: err.Error()}
		if de, ok := err.(huma.ErrorDetailer); ok {
			d = de.ErrorDetail()
		}
		f := fieldProblem{Field: fieldName(d.Location), Message: d.Message}
		// "expected required property subject to be present" names its field.
		if name, ok := strings.CutPrefix(d.Message, "expected required property "); ok {
			name = strings.TrimSuffix(name, " to be present")
			f = fieldProblem{Field: strings.TrimPrefix(f.Field+"."+name, "."), Message: "is required"}
		}
		if d.Message == "unexpected property" {
			f.Message = "is not a field of this request"
			unknown = append(unknown, f)
		}
		fields = append(fields, f)
	}
	switch {
	case len(unknown) > 0:
		return newProblem(http.StatusBadRequest, "the body has unknown fields", unknown...)
	case status == http.StatusBadRequest:
		return newProblem(status, "the body is not valid JSON", fields...)
	case status == http.StatusUnprocessableEntity:
		return newProblem(status, "some fields are missing or invalid", fields...)
	}
	return newProblem(status, msg, fields...)
}

// fieldName turns huma's location (body.customer.email, query.limit,
// path.id, header.Idempotency-Key) into the field a caller knows.
func fieldName(location string) string {
	for _, prefix := range []string{"body.", "query.", "path.", "header."} {
		if rest, ok := strings.CutPrefix(location, prefix); ok {
			return rest
		}
	}
	if location == "body" {
		return ""
	}
	return location
}

// writeProblem answers p outside huma (authentication, routing).
func writeProblem(w http.ResponseWriter, p *problem) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}
