package sla

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestShippedPolicyHoldsNewSellersPayoutsAndCountsLostDisputes(t *testing.T) {
	b, err := Load("../../deploy/sla/default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := b.Sellers()
	if !s.HoldPayoutsUntilVerified || len(s.Steps) != len(SellerStepNames) {
		t.Fatalf("sellers terms = %+v, want payouts held and every step", s)
	}
	for _, st := range s.Steps {
		if st.Due <= 0 || st.EscalateAfter <= 0 {
			t.Errorf("step %s has no deadline: %+v", st.Step, st)
		}
	}
	var found bool
	for _, r := range b.Fraud().Rules {
		if r.Name == "disputes_lost" && r.Threshold == 3 && r.Window == 720*time.Hour {
			found = true
		}
	}
	if !found {
		t.Errorf("fraud rules = %+v, want 3 lost disputes in 30 days", b.Fraud().Rules)
	}
}

func TestSellerAndFraudSectionsNameWhatIsWrong(t *testing.T) {
	data, err := readDefault()
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(data, "{step: first_listing,       due: 168h", "{step: first_listink,       due: 168h", 1)
	bad = strings.Replace(bad, "kinds: [dispute_lost],     threshold: 3", "kinds: [dispute_won],     threshold: 0", 1)
	_, err = Parse([]byte(bad), "policy.yaml")
	if err == nil {
		t.Fatal("a policy with an unknown step and rule kind parsed")
	}
	for _, want := range []string{"sellers.steps[3].step", `unknown step "first_listink"`, "fraud.rules[0].kinds", `unknown signal kind "dispute_won"`, "fraud.rules[0].threshold"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
}

func TestPolicyWithoutSellerSectionsTakesTheDefaults(t *testing.T) {
	data, err := readDefault()
	if err != nil {
		t.Fatal(err)
	}
	cut := data[:strings.Index(data, "\nsellers:")] + data[strings.Index(data, "\ncalendars:"):]
	b, err := Parse([]byte(cut), "policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := b.Sellers(); len(got.Steps) != len(DefaultSellerTerms.Steps) || got.VerificationReviewWithin != DefaultSellerTerms.VerificationReviewWithin {
		t.Errorf("sellers = %+v, want the defaults", got)
	}
	if got := b.Fraud(); len(got.Rules) != len(DefaultFraudTerms.Rules) || got.HoldFor != DefaultFraudTerms.HoldFor {
		t.Errorf("fraud = %+v, want the defaults", got)
	}
}

func readDefault() (string, error) {
	data, err := os.ReadFile("../../deploy/sla/default.yaml")
	return string(data), err
}
