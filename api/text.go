package main

import (
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/danielgtaylor/huma/v2"
)

func init() {
	// A body with "subject" and "SUBJECT" must not slip a second, unchecked
	// value past validation: field names match exactly.
	huma.ValidateStrictCasing = true
	// Only media types are negotiated, so an "Accept: json" never answers
	// "Content-Type: json"; problems are marshalled as the JSON they are.
	delete(huma.DefaultFormats, "json")
	huma.DefaultFormats["application/problem+json"] = huma.DefaultJSONFormat
}

// cleanText reports why s cannot be stored: Postgres text refuses NUL and
// invalid UTF-8, and Temporal refuses invalid UTF-8 in ids.
func cleanText(s string) string {
	switch {
	case !utf8.ValidString(s):
		return "must be valid UTF-8"
	case strings.ContainsRune(s, 0):
		return "must not contain NUL characters"
	}
	return ""
}

// requireCleanText is huma middleware refusing (422) query parameters and
// an Idempotency-Key that could not be stored, before any handler runs.
func requireCleanText(api huma.API) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		var fields []fieldProblem
		u := ctx.URL()
		for name, values := range u.Query() {
			for _, v := range values {
				if why := cleanText(v); why != "" {
					fields = append(fields, fieldProblem{Field: name, Message: why})
				}
			}
		}
		key := ctx.Header("Idempotency-Key")
		if why := cleanText(key); why != "" {
			fields = append(fields, fieldProblem{Field: "Idempotency-Key", Message: why})
		} else if strings.ContainsFunc(key, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
			fields = append(fields, fieldProblem{Field: "Idempotency-Key", Message: "must be printable ASCII without spaces"})
		}
		if len(fields) > 0 {
			_ = huma.WriteErr(api, ctx, http.StatusUnprocessableEntity, "", fieldErrors(fields)...)
			return
		}
		next(ctx)
	}
}

// fieldErrors turns field problems back into huma error details, so
// huma.WriteErr renders them through humaError.
func fieldErrors(fields []fieldProblem) []error {
	out := make([]error, len(fields))
	for i, f := range fields {
		out[i] = &huma.ErrorDetail{Location: "query." + f.Field, Message: f.Message}
	}
	return out
}

// checkBodyText walks a request body (or an update input) and reports every
// string field holding text that could not be stored, named by its JSON path.
func checkBodyText(v any) error {
	var fields []fieldProblem
	walkText(reflect.ValueOf(v), "", &fields)
	if len(fields) == 0 {
		return nil
	}
	return newProblem(http.StatusUnprocessableEntity, "some fields are missing or invalid", fields...)
}

func walkText(v reflect.Value, path string, out *[]fieldProblem) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			walkText(v.Elem(), path, out)
		}
	case reflect.String:
		if why := cleanText(v.String()); why != "" {
			*out = append(*out, fieldProblem{Field: path, Message: why})
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name := strings.Split(f.Tag.Get("json"), ",")[0]
			if name == "" || name == "-" {
				name = f.Name
			}
			if f.Anonymous {
				walkText(v.Field(i), path, out)
				continue
			}
			walkText(v.Field(i), strings.TrimPrefix(path+"."+name, "."), out)
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			walkText(v.Index(i), fmt.Sprintf("%s[%d]", path, i), out)
		}
	}
}
