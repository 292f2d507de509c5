package config

import (
	"encoding/base64"
	"fmt"
	"log/slog"
	"math"
	"mime"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// reader reads variables through lookup, falling back to the defaults in
// Vars, and collects one error per bad variable.
type reader struct {
	lookup func(string) (string, bool)
	errs   []error
}

func (r *reader) fail(name, format string, args ...any) {
	r.errs = append(r.errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
}

func (r *reader) string(name string) string {
	if v, ok := r.lookup(name); ok {
		return strings.TrimSpace(v)
	}
	for _, v := range Vars {
		if v.Name == name {
			return v.Default
		}
	}
	panic("config: variable " + name + " is not listed in Vars")
}

func (r *reader) nonEmpty(name string) string {
	v := r.string(name)
	if v == "" {
		r.fail(name, "must not be empty")
	}
	return v
}

func (r *reader) hostPort(name string) string {
	v := r.nonEmpty(name)
	if v == "" {
		return v
	}
	_, port, err := net.SplitHostPort(v)
	if err != nil {
		r.fail(name, "want host:port, got %q", v)
		return v
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		r.fail(name, "port %q is not a number from 0 to 65535", port)
	}
	return v
}

// optionalHostPort reads a host:port that may be empty (a listener turned off).
func (r *reader) optionalHostPort(name string) string {
	if r.string(name) == "" {
		return ""
	}
	return r.hostPort(name)
}

func (r *reader) bool(name string) bool {
	v := r.string(name)
	b, err := strconv.ParseBool(v)
	if err != nil {
		r.fail(name, "want true or false, got %q", v)
	}
	return b
}

// sizeUpTo reads a byte count from 1 to limit. The limit is S3's for one
// CopyObject, which stores an evidence file's checksum after its upload.
func (r *reader) sizeUpTo(name string, limit int64) int64 {
	v := r.string(name)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 || n > limit {
		r.fail(name, "want a number of bytes from 1 to %d, got %q", limit, v)
	}
	return n
}

func (r *reader) positiveInt(name string) int {
	v := r.string(name)
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		r.fail(name, "want a positive whole number, got %q", v)
	}
	return n
}

// mediaTypes reads a comma-separated list of media types, each with
// optional parameters ("text/plain; charset=utf-8").
func (r *reader) mediaTypes(name string) []string {
	v := r.nonEmpty(name)
	var out []string
	for _, item := range strings.Split(v, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		mt, params, err := mime.ParseMediaType(item)
		if err != nil || !strings.Contains(mt, "/") {
			r.fail(name, "%q is not a media type", item)
			continue
		}
		out = append(out, mime.FormatMediaType(mt, params))
	}
	if v != "" && len(out) == 0 {
		r.fail(name, "want at least one media type")
	}
	return out
}

func (r *reader) positiveDuration(name string) time.Duration {
	v := r.string(name)
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		r.fail(name, "want a positive duration such as 30s or 2m, got %q", v)
	}
	return d
}

func (r *reader) logLevel(name string) slog.Level {
	v := r.string(name)
	var l slog.Level
	if err := l.UnmarshalText([]byte(v)); err != nil {
		r.fail(name, "want debug, info, warn or error, got %q", v)
	}
	return l
}

// nonNegativeFloat reads a number of 0 or more.
func (r *reader) nonNegativeFloat(name string) float64 {
	v := r.string(name)
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) {
		r.fail(name, "want a number of 0 or more, got %q", v)
	}
	return f
}

// list reads comma-separated values, trimmed, empty ones left out.
func (r *reader) list(name string) []string {
	var out []string
	for _, v := range strings.Split(r.string(name), ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func (r *reader) file(name string) string {
	v := r.string(name)
	if v == "" {
		return v
	}
	if _, err := os.Stat(v); err != nil {
		r.fail(name, "%v", err)
	}
	return v
}

func (r *reader) optionalURL(name string) string {
	v := r.string(name)
	if v == "" {
		return v
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		r.fail(name, "want an http or https URL, got %q", v)
	}
	return v
}

func (r *reader) requiredURL(name string) string {
	if r.nonEmpty(name) == "" {
		return ""
	}
	return r.optionalURL(name)
}

// baseURL reads the base URL of a signed API: required, http or https,
// without query or fragment, since paths are appended to it.
func (r *reader) baseURL(name string) string {
	v := r.requiredURL(name)
	if v == "" {
		return v
	}
	if u, err := url.Parse(v); err == nil && (u.RawQuery != "" || u.Fragment != "") {
		r.fail(name, "want a base URL without query or fragment, got %q", v)
	}
	return v
}

// urlMap reads "key=url,key=url"; keys are checked by whoever uses them.
func (r *reader) urlMap(name string) map[string]string {
	v := r.string(name)
	out := map[string]string{}
	if v == "" {
		return out
	}
	for i, item := range strings.Split(v, ",") {
		key, raw, ok := strings.Cut(strings.TrimSpace(item), "=")
		key, raw = strings.TrimSpace(key), strings.TrimSpace(raw)
		if !ok || key == "" {
			// Never quote the item: it may be a secret URL.
			r.fail(name, "want key=url pairs separated by commas; item %d is not one", i+1)
			continue
		}
		if _, dup := out[key]; dup {
			r.fail(name, "%s is given twice", key)
			continue
		}
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			// The URL itself is often a secret (a Slack webhook's path): name the key only.
			r.fail(name, "the URL of %s is not an http or https URL", key)
			continue
		}
		out[key] = raw
	}
	return out
}

// webhookSecrets reads one Standard Webhooks secret or several separated
// by commas, the first being the current one: each "whsec_" and the
// base64 of 24 to 64 random bytes. It answers the entries trimmed and
// joined by commas. Errors name the entry's position when there are
// several, and never quote a value.
func (r *reader) webhookSecrets(name string) string {
	v := r.nonEmpty(name)
	if v == "" {
		return v
	}
	entries := r.entries(v)
	for i, e := range entries {
		at := entryAt(i, len(entries))
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(e, "whsec_"))
		switch {
		case e == "":
			r.fail(name, "%sis empty", at)
		case !strings.HasPrefix(e, "whsec_"):
			r.fail(name, `%swant "whsec_" followed by base64`, at)
		case err != nil:
			r.fail(name, `%sthe part after "whsec_" is not valid base64`, at)
		case len(key) < 24 || len(key) > 64:
			r.fail(name, "%swant a key of 24 to 64 bytes, got %d", at, len(key))
		}
	}
	return strings.Join(entries, ",")
}

// hmacSecrets reads one HMAC-SHA256 secret or several separated by
// commas, the first being the current one, each at least 32 bytes; empty
// is refused when required, else it turns the receiver off. It answers
// the entries trimmed and joined by commas. Errors name the entry's
// position when there are several, and never quote a value.
func (r *reader) hmacSecrets(name string, required bool) string {
	v := r.string(name)
	if v == "" {
		if required {
			r.fail(name, "want a secret of at least 32 bytes, got 0")
		}
		return v
	}
	entries := r.entries(v)
	for i, e := range entries {
		if len(e) < 32 {
			r.fail(name, "%swant a secret of at least 32 bytes, got %d", entryAt(i, len(entries)), len(e))
		}
	}
	return strings.Join(entries, ",")
}

// entries splits a comma-separated list, trimming each entry and keeping
// empty ones, so that they are refused by position.
func (r *reader) entries(v string) []string {
	out := strings.Split(v, ",")
	for i := range out {
		out[i] = strings.TrimSpace(out[i])
	}
	return out
}

// entryAt names entry i of n in an error ("entry 2: "), or nothing for a
// single value, whose errors read as they did before lists.
func entryAt(i, n int) string {
	if n == 1 {
		return ""
	}
	return fmt.Sprintf("entry %d of %d: ", i+1, n)
}

// durationBetween reads a duration from lowest to highest, both included.
func (r *reader) durationBetween(name string, lowest, highest time.Duration) time.Duration {
	v := r.string(name)
	d, err := time.ParseDuration(v)
	if err != nil || d < lowest || d > highest {
		r.fail(name, "want a duration from %s to %s, such as 5m, got %q", shortDuration(lowest), shortDuration(highest), v)
	}
	return d
}

// shortDuration writes d as an operator would ("1h", not "1h0m0s").
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// token reads a value that goes into an HTTP header as is.
func (r *reader) token(name string) string {
	v := r.nonEmpty(name)
	for _, c := range v {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-._~", c)) {
			r.fail(name, "want letters, digits and -._~ only, got %q", v)
			break
		}
	}
	return v
}

func (r *reader) databaseURL(name string) string {
	v := r.nonEmpty(name)
	if v == "" {
		return v
	}
	if _, err := pgxpool.ParseConfig(v); err != nil {
		// pgx's message can quote the password; name the variable only.
		r.fail(name, "not a valid Postgres connection string")
	}
	return v
}

// pair requires two variables that only make sense together to be set or unset together.
func (r *reader) pair(nameA, a, nameB, b string) {
	if (a == "") != (b == "") {
		r.fail(nameA, "must be set together with %s", nameB)
	}
}

// requiredSecret reads a secret of at least 32 bytes; errors never quote it.
func (r *reader) requiredSecret(name string) string {
	v := r.string(name)
	if len(v) < 32 {
		r.fail(name, "want a secret of at least 32 bytes, got %d", len(v))
	}
	return v
}

// oneOf reads a value that must be one of choices.
func (r *reader) oneOf(name string, choices ...string) string {
	v := r.string(name)
	for _, c := range choices {
		if v == c {
			return v
		}
	}
	r.fail(name, "want %s, got %q", strings.Join(choices, " or "), v)
	return v
}

// hmacSecret reads an optional HMAC-SHA256 key: empty, or at least as
// long as the hash (32 bytes), so it cannot be guessed faster than the
// hash broken. Errors never quote the value.
func (r *reader) hmacSecret(name string) string {
	v := r.string(name)
	if v != "" && len(v) < 32 {
		r.fail(name, "want at least 32 bytes, got %d", len(v))
	}
	return v
}

// requiredWhen requires a variable that the value of another one needs.
func (r *reader) requiredWhen(name, value, because string) {
	if value == "" {
		r.fail(name, "must be set when %s", because)
	}
}

// linkKeys reads id=secret pairs: at least one, ids unique tokens without
// dots, each secret at least 32 bytes. Secrets are never quoted in errors.
func (r *reader) linkKeys(name string) []LinkKey {
	var keys []LinkKey
	seen := map[string]bool{}
	for i, item := range strings.Split(r.string(name), ",") {
		id, secret, ok := strings.Cut(strings.TrimSpace(item), "=")
		id = strings.TrimSpace(id)
		switch {
		case !ok || id == "" || strings.ContainsAny(id, ".| "):
			r.fail(name, "want id=secret pairs separated by commas, ids without dots; item %d is not one", i+1)
			continue
		case seen[id]:
			r.fail(name, "key %s is given twice", id)
			continue
		case len(secret) < 32:
			r.fail(name, "the secret of key %s has %d bytes; want at least 32", id, len(secret))
			continue
		}
		seen[id] = true
		keys = append(keys, LinkKey{ID: id, Secret: secret})
	}
	return keys
}
