package main

import (
	"net/http"

	"github.com/danielgtaylor/huma/v2"
)

// pageOperations documents the customer pages for the OpenAPI document,
// apart from the keyed /v1 API: they need no key (security: []), answer
// HTML, and are not huma operations (the router serves them).
func pageOperations() []*huma.Operation {
	page := func(desc string) *huma.Response {
		return &huma.Response{Description: desc, Content: map[string]*huma.MediaType{
			"text/html": {Schema: &huma.Schema{Type: "string"}}}}
	}
	// refusals answers the refusal pages of a page about what (case,
	// delivery), whose 409 says conflict.
	refusals := func(what, conflict string) map[string]*huma.Response {
		return map[string]*huma.Response{
			"403": page("The link is altered, signed by no known key, or for another purpose, " + what + " or customer."),
			"404": page("No such " + what + "."),
			"409": page(conflict),
			"410": page("The link has expired."),
			"429": page("Too many requests from this address or with this link; Retry-After says when to come back."),
			"503": page("A dependency is unavailable; try again."),
		}
	}
	surveyRefusals := refusals("case", "The survey can no longer be answered (not resolved, past its window), or was answered already (its first rating shown).")
	deliveryRefusals := refusals("delivery", "The delivery cannot take this now (already confirmed, under review, retired): the page says where it stands.")
	with := func(refusals, extra map[string]*huma.Response) map[string]*huma.Response {
		out := map[string]*huma.Response{}
		for k, v := range refusals {
			out[k] = v
		}
		for k, v := range extra {
			out[k] = v
		}
		return out
	}
	pathID := func(desc string) *huma.Param {
		return &huma.Param{Name: "id", In: "path", Required: true, Description: desc,
			Schema: &huma.Schema{Type: "string", Pattern: "^[A-Za-z0-9_-]+$", MaxLength: pagePtr(64)}}
	}
	id, deliveryID := pathID("The case id."), pathID("The delivery id.")
	token := &huma.Param{Name: "t", In: "query", Required: true, Description: "The signed link token from the email.",
		Schema: &huma.Schema{Type: "string"}}
	noKey := []map[string][]string{}
	tags := []string{"customer pages"}
	return []*huma.Operation{
		{OperationID: "survey-page", Method: http.MethodGet, Path: "/survey/{id}", Tags: tags, Security: noKey,
			Summary: "The satisfaction survey page of a resolved case (HTML)",
			Description: "Reached from the resolved case's email. A GET never answers the survey: " +
				"rating pre-selects a choice (the email's one-click links), so a mail scanner fetching links changes nothing.",
			Parameters: []*huma.Param{id, token, {Name: "rating", In: "query", Description: "The rating to pre-select.",
				Schema: &huma.Schema{Type: "integer", Minimum: pagePtr(1.0), Maximum: pagePtr(5.0)}}},
			Responses: with(surveyRefusals, map[string]*huma.Response{"200": page("The survey form, or \"already answered\" with the first rating.")})},
		{OperationID: "answer-survey", Method: http.MethodPost, Path: "/survey/{id}", Tags: tags, Security: noKey,
			Summary:     "Answer the satisfaction survey (HTML form)",
			Description: "Runs the case's csat update as customer:<customer id>, once per link.",
			Parameters:  []*huma.Param{id},
			RequestBody: &huma.RequestBody{Required: true, Content: map[string]*huma.MediaType{
				"application/x-www-form-urlencoded": {Schema: &huma.Schema{Type: "object", Required: []string{"t", "csrf", "rating"},
					Properties: map[string]*huma.Schema{
						"t":       {Type: "string", Description: "The signed link token."},
						"csrf":    {Type: "string", Description: "The form token the survey page handed out with this link."},
						"rating":  {Type: "integer", Minimum: pagePtr(1.0), Maximum: pagePtr(5.0)},
						"comment": {Type: "string", MaxLength: pagePtr(maxCommentRunes)},
					}}}}},
			Responses: with(surveyRefusals, map[string]*huma.Response{
				"200": page("Thank you: the answer is recorded."),
				"400": page("The form is incomplete or malformed (the form again, saying what is wrong)."),
				"403": page("The link is refused, or the form token is not the one of this link's page."),
			})},
		{OperationID: "delivery-page", Method: http.MethodGet, Path: "/deliveries/{id}", Tags: tags, Security: noKey,
			Summary: "The page of an account delivery, for its buyer (HTML)",
			Description: "Reached from the delivered and reminder emails: what was delivered and when, the recovery instructions, " +
				"the confirmation deadline and the status, with the confirm and report-problem forms as the status allows. " +
				"Apart from the keyed /v1/deliveries. A GET changes nothing.",
			Parameters: []*huma.Param{deliveryID, token},
			Responses:  with(deliveryRefusals, map[string]*huma.Response{"200": page("The delivery's page.")})},
		{OperationID: "confirm-delivery-page", Method: http.MethodPost, Path: "/deliveries/{id}/confirm", Tags: tags, Security: noKey,
			Summary:     "Confirm the delivered account works (HTML form)",
			Description: "Runs the delivery's confirm update as customer:<buyer id>, once per link.",
			Parameters:  []*huma.Param{deliveryID},
			RequestBody: &huma.RequestBody{Required: true, Content: map[string]*huma.MediaType{
				"application/x-www-form-urlencoded": {Schema: &huma.Schema{Type: "object", Required: []string{"t", "csrf"},
					Properties: map[string]*huma.Schema{
						"t":    {Type: "string", Description: "The signed link token."},
						"csrf": {Type: "string", Description: "The form token the delivery page handed out with this link."},
					}}}}},
			Responses: with(deliveryRefusals, map[string]*huma.Response{
				"200": page("Thank you: the delivery is confirmed."),
				"400": page("The form is incomplete or malformed."),
				"403": page("The link is refused, or the form token is not the one of this link's page."),
			})},
		{OperationID: "report-delivery-problem-page", Method: http.MethodPost, Path: "/deliveries/{id}/report-problem", Tags: tags, Security: noKey,
			Summary: "Report a problem with the delivered account (HTML form)",
			Description: "Stores the screenshot, if any, as the delivery's evidence (kind support_message, retained, under deliveries/<id>/), " +
				"then runs the delivery's report-problem update as customer:<buyer id>, which puts it under review and opens a case.",
			Parameters: []*huma.Param{deliveryID},
			RequestBody: &huma.RequestBody{Required: true, Content: map[string]*huma.MediaType{
				"multipart/form-data": {Schema: &huma.Schema{Type: "object", Required: []string{"t", "csrf", "description"},
					Description: "The fields in this order: t, csrf and description before the screenshot.",
					Properties: map[string]*huma.Schema{
						"t":           {Type: "string", Description: "The signed link token."},
						"csrf":        {Type: "string", Description: "The form token the delivery page handed out with this link."},
						"description": {Type: "string", MinLength: pagePtr(1), MaxLength: pagePtr(maxDescriptionRunes)},
						"screenshot":  {Type: "string", Format: "binary", Description: "An optional image; its type is sniffed from its first bytes."},
					}}}}},
			Responses: with(deliveryRefusals, map[string]*huma.Response{
				"200": page("We received the problem: a case is opened."),
				"400": page("The form is incomplete or malformed (the form again, saying what is wrong)."),
				"403": page("The link is refused, or the form token is not the one of this link's page."),
				"413": page("The screenshot is larger than the evidence limit (the form again)."),
				"415": page("The screenshot is not an accepted image (the form again)."),
			})},
		{OperationID: "page-stylesheet", Method: http.MethodGet, Path: "/pages/style.css", Tags: tags, Security: noKey,
			Summary: "The customer pages' stylesheet",
			Responses: map[string]*huma.Response{"200": {Description: "The stylesheet.", Content: map[string]*huma.MediaType{
				"text/css": {Schema: &huma.Schema{Type: "string"}}}}}},
	}
}

func pagePtr[T any](v T) *T { return &v }
