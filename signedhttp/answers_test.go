package signedhttp

import (
	"strings"
	"testing"
)

func TestOutcomeOfStatuses(t *testing.T) {
	for status, want := range map[int]Outcome{200: OutcomeOK, 201: OutcomeOK, 404: OutcomeNotFound, 409: OutcomeRefused,
		422: OutcomeRefused, 429: OutcomeTransient, 500: OutcomeTransient, 503: OutcomeTransient, 302: OutcomeTransient, 100: OutcomeTransient} {
		if got := OutcomeOf(status); got != want {
			t.Errorf("OutcomeOf(%d) = %d, want %d", status, got, want)
		}
	}
}

func TestProblemOfReadsAProblemOrTheText(t *testing.T) {
	code, detail := ProblemOf([]byte(`{"title":"Conflict","detail":"hold h-1\nis already released","code":"already_released"}`))
	if code != "already_released" || detail != "hold h-1 is already released" {
		t.Errorf("problem: %q %q", code, detail)
	}
	if code, detail = ProblemOf([]byte(`{"title":"Not Found"}`)); code != "" || detail != "Not Found" {
		t.Errorf("title only: %q %q", code, detail)
	}
	if code, detail = ProblemOf([]byte("<html>bad gateway\xff</html>")); code != "" || detail != "<html>bad gateway</html>" {
		t.Errorf("text: %q %q", code, detail)
	}
	if _, detail = ProblemOf([]byte(strings.Repeat("x", 500))); len(detail) != maxDetail {
		t.Errorf("a long body is cut to %d bytes, got %d", maxDetail, len(detail))
	}
}

func TestCheckConfigNamesWhatIsWrong(t *testing.T) {
	good := Config{BaseURL: "http://127.0.0.1:1", Secret: strings.Repeat("s", 32)}
	cfg, err := CheckConfig("payments", good, 32)
	if err != nil || cfg.KeyID != "handoff" {
		t.Fatalf("a good config: %+v, %v", cfg, err)
	}
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{BaseURL: "ftp://x", Secret: good.Secret}, "payments: want an http or https base URL"},
		{Config{BaseURL: good.BaseURL, Secret: "short"}, "payments: the signing secret must have at least 32 bytes, got 5"},
		{Config{BaseURL: good.BaseURL, Secret: good.Secret, KeyID: "a b"}, `payments: key id "a b" has white space`},
	} {
		if _, err := CheckConfig("payments", c.cfg, 32); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("CheckConfig(%+v) = %v, want %q", c.cfg, err, c.want)
		}
	}
}
