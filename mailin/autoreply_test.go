package mailin

import (
	"net/textproto"
	"testing"
)

func TestAutoReplyTellsRobotsFromCustomers(t *testing.T) {
	tests := []struct {
		name    string
		header  map[string]string
		subject string
		reason  string // "" when the message is a customer's
	}{
		{"Auto-Submitted auto-replied", map[string]string{"Auto-Submitted": "auto-replied"}, "Re: your case", "Auto-Submitted: auto-replied"},
		{"Auto-Submitted auto-generated", map[string]string{"Auto-Submitted": "auto-generated"}, "", "Auto-Submitted: auto-generated"},
		{"Auto-Submitted with parameters", map[string]string{"Auto-Submitted": "auto-replied; owner-email=\"x@example.com\""}, "", "Auto-Submitted: auto-replied; owner-email=\"x@example.com\""},
		{"Precedence bulk", map[string]string{"Precedence": "bulk"}, "", "Precedence: bulk"},
		{"Precedence junk", map[string]string{"Precedence": "junk"}, "", "Precedence: junk"},
		{"Precedence list", map[string]string{"Precedence": "list"}, "", "Precedence: list"},
		{"Precedence auto_reply in capitals", map[string]string{"Precedence": " AUTO_REPLY "}, "", "Precedence: AUTO_REPLY"},
		{"X-Precedence auto_reply", map[string]string{"X-Precedence": "auto_reply"}, "", "X-Precedence: auto_reply"},
		{"X-Autoreply", map[string]string{"X-Autoreply": "yes"}, "", "X-Autoreply: yes"},
		{"X-Autorespond", map[string]string{"X-Autorespond": "Vacation"}, "", "X-Autorespond: Vacation"},
		{"X-Autoreply-From", map[string]string{"X-Autoreply-From": "jane@example.com"}, "", "X-Autoreply-From: jane@example.com"},
		{"X-Mail-Autoreply", map[string]string{"X-Mail-Autoreply": "1"}, "", "X-Mail-Autoreply: 1"},
		{"X-Auto-Response-Suppress All", map[string]string{"X-Auto-Response-Suppress": "All"}, "", "X-Auto-Response-Suppress: All"},
		{"X-Auto-Response-Suppress OOF in a list", map[string]string{"X-Auto-Response-Suppress": "DR, OOF, NRN"}, "", "X-Auto-Response-Suppress: DR, OOF, NRN"},
		{"X-Auto-Response-Suppress AutoReply", map[string]string{"X-Auto-Response-Suppress": "RN,AutoReply"}, "", "X-Auto-Response-Suppress: RN,AutoReply"},
		{"List-Id", map[string]string{"List-Id": "<news.shop.example>"}, "", "List-Id: <news.shop.example>"},
		{"List-Unsubscribe", map[string]string{"List-Unsubscribe": "<mailto:leave@shop.example>"}, "", "List-Unsubscribe: <mailto:leave@shop.example>"},
		{"Out of Office", nil, "Out of Office: back on 5 January", `subject starts with "Out of Office"`},
		{"Out of office lower case, padded", nil, "  out   of office: Jane Doe", `subject starts with "Out of Office"`},
		{"Automatic reply", nil, "Automatic reply: [Case 48213] Missing invoice", `subject starts with "Automatic reply:"`},
		{"Autoreply", nil, "AutoReply: thanks for your message", `subject starts with "Autoreply:"`},
		{"Auto", nil, "Auto: Re: your order", `subject starts with "Auto:"`},
		{"Réponse automatique", nil, "Réponse automatique : [Dossier 48213] Facture", `subject starts with "Réponse automatique"`},
		{"Réponse automatique in capitals", nil, "RÉPONSE AUTOMATIQUE : absente", `subject starts with "Réponse automatique"`},
		{"Absence du bureau", nil, "Absence du bureau : Hélène Martin", `subject starts with "Absence du bureau"`},
		{"Absent du bureau", nil, "Absent du bureau jusqu'au 5 janvier", `subject starts with "Absent du bureau"`},
		{"Message d'absence", nil, "Message d'absence - Re: votre commande", `subject starts with "Message d'absence"`},
		{"Message d’absence with a typographic apostrophe", nil, "Message d’absence", `subject starts with "Message d’absence"`},
		{"Abwesenheitsnotiz", nil, "Abwesenheitsnotiz: Ihre Bestellung", `subject starts with "Abwesenheitsnotiz"`},

		{"plain reply", map[string]string{"From": "jane@example.com"}, "Re: [Case 48213] Missing invoice", ""},
		{"Auto-Submitted no", map[string]string{"Auto-Submitted": "no"}, "Re: your case", ""},
		{"Auto-Submitted No with a comment", map[string]string{"Auto-Submitted": "No (sent by a person)"}, "", ""},
		{"Precedence first-class", map[string]string{"Precedence": "first-class"}, "", ""},
		{"X-Precedence bulk is not listed", map[string]string{"X-Precedence": "bulk"}, "", ""},
		{"X-Auto-Response-Suppress without OOF", map[string]string{"X-Auto-Response-Suppress": "DR, RN, NRN"}, "", ""},
		{"subject about an automatic payment", nil, "Re: automatic payment failed", ""},
		{"subject mentioning out of office later", nil, "Re: I was out of office, sorry", ""},
		{"subject Autopay", nil, "Autopay question", ""},
		{"subject about an absence", nil, "Re: absence de colis", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := textproto.MIMEHeader{}
			for k, v := range tt.header {
				h.Set(k, v)
			}
			reason, ok := AutoReply(h, tt.subject)
			if ok != (tt.reason != "") || reason != tt.reason {
				t.Errorf("AutoReply(%v, %q) = %q, %v; want %q, %v", tt.header, tt.subject, reason, ok, tt.reason, tt.reason != "")
			}
		})
	}
}

func TestAutoReplyLooksAtEveryAutoSubmittedValue(t *testing.T) {
	h := textproto.MIMEHeader{"Auto-Submitted": {"no", "auto-replied"}}
	if reason, ok := AutoReply(h, "Re: hello"); !ok || reason != "Auto-Submitted: auto-replied" {
		t.Errorf("AutoReply = %q, %v; want the auto-replied value", reason, ok)
	}
}
