package main

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"handoff/mailin"
	"handoff/signedhttp"
)

// inboundMailPath is where a mail provider posts the messages it received
// for the reply addresses (INBOUND_WEBHOOK_SECRET turns it on).
const inboundMailPath = "/webhooks/inbound-mail"

// inboundMailTolerance is how far a webhook's timestamp may be from the
// clock: a replayed request older than that is refused.
const inboundMailTolerance = 5 * time.Minute

// inboundMailSecrets answers the secrets of INBOUND_WEBHOOK_SECRET (one,
// or several separated by commas during a rotation, as config checked
// them), any of which verifies; none when it is empty, which turns the
// endpoint off.
func inboundMailSecrets(list string) [][]byte {
	if list == "" {
		return nil
	}
	var out [][]byte
	for _, s := range signedhttp.SplitSecrets(list) {
		out = append(out, []byte(s))
	}
	return out
}

// inboundMail takes one raw MIME message (the body, message/rfc822) for the
// reply address in the query's recipient, sent by the envelope sender in
// sender (empty for a bounce), signed like every Handoff webhook
// (signedhttp: HMAC-SHA256 over method, request target with its query,
// timestamp and body). It hands the message to the same Receiver the SMTP
// gateway uses: 202 once the case has it (a second post of the same
// message answers 202 and changes nothing), 4xx for a message refused for
// good (the provider must not retry), 503 for one to retry.
func inboundMail(inbox mailin.Inbox, secrets [][]byte, maxBytes int64) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBytes))
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeProblem(w, newProblem(http.StatusRequestEntityTooLarge, "the message is larger than "+strconv.FormatInt(maxBytes, 10)+" bytes"))
			return
		}
		if err != nil {
			writeProblem(w, newProblem(http.StatusBadRequest, "the body could not be read"))
			return
		}
		if err := signedhttp.VerifyAny(r.Header, secrets, r.Method, r.URL.RequestURI(), body, time.Now(), inboundMailTolerance); err != nil {
			writeProblem(w, newProblem(http.StatusUnauthorized, "the request is not signed by the mail provider: "+err.Error(),
				fieldProblem{Field: signedhttp.HeaderSignature, Message: err.Error()}))
			return
		}
		rcpt := r.URL.Query().Get("recipient")
		if rcpt == "" {
			writeProblem(w, newProblem(http.StatusUnprocessableEntity, "the recipient is missing",
				fieldProblem{Field: "recipient", Message: "is required: the reply address the message was sent to"}))
			return
		}
		if len(body) == 0 {
			writeProblem(w, newProblem(http.StatusUnprocessableEntity, "the message is empty",
				fieldProblem{Field: "body", Message: "must hold the raw MIME message"}))
			return
		}
		err = inbox.Deliver(r.Context(), mailin.Incoming{
			MailFrom: r.URL.Query().Get("sender"), Rcpt: rcpt, Raw: body, Remote: r.RemoteAddr, ReceivedAt: time.Now(),
		})
		if refusal, ok := mailin.AsRefusal(err); ok {
			status := http.StatusUnprocessableEntity
			switch refusal.Code {
			case 552:
				status = http.StatusRequestEntityTooLarge
			case 550:
				status = http.StatusNotFound
			}
			writeProblem(w, newProblem(status, refusal.Reason, fieldProblem{Field: "recipient", Message: refusal.Error()}))
			return
		}
		if err != nil {
			detail := "the message could not be taken now; retry later"
			if name := dependencyOf(err); name != "" {
				detail = name + " is unavailable: " + detail
			}
			writeProblem(w, newProblem(http.StatusServiceUnavailable, detail))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		_ = json.NewEncoder(w).Encode(map[string]string{"status": "accepted"})
	}
}
