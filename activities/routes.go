package activities

import (
	"errors"
	"fmt"
	"handoff/workflows/vocab"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The channels a notification can go out on.
const (
	// ChannelEmail mails the audience: the customer's address, the
	// assignee's (<assignee>@STAFF_EMAIL_DOMAIN unless it has a domain), or
	// the team's team-<team>@STAFF_EMAIL_DOMAIN.
	ChannelEmail = "email"
	// ChannelTeamWebhook posts a Slack-compatible {"text": ...} to the case
	// team's incoming webhook; off for a team without a URL.
	ChannelTeamWebhook = "team_webhook"
	// ChannelMarketplaceWebhook posts the event as JSON to
	// MARKETPLACE_WEBHOOK_URL; off while it is empty.
	ChannelMarketplaceWebhook = "marketplace_webhook"
)

// Channels lists every channel.
var Channels = []string{ChannelEmail, ChannelTeamWebhook, ChannelMarketplaceWebhook}

// Audiences lists who a workflow notifies (vocab.Notification.Audience):
// the workflows' own list, vocab.Audiences, which the routes file's
// audiences must come from.
var Audiences = vocab.Audiences

// routes says which channels tell each audience about each event.
type routes struct {
	// staffLocale is the language assignees and teams are written to.
	staffLocale string
	// teamWebhooks maps a team to its incoming-webhook URL.
	teamWebhooks map[string]string
	// events maps an event, then an audience, to its channels.
	events map[string]map[string][]string
}

// channels answers the channels that tell audience about event, none when
// the file routes it nowhere.
func (r *routes) channels(event, audience string) []string {
	return r.events[event][audience]
}

// loadRoutes reads and checks a routes file.
func loadRoutes(path string) (*routes, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("notification routes: %w", err)
	}
	return parseRoutes(data, path)
}

// parseRoutes reads a routes file strictly; name (the file's path)
// prefixes every error with the line at fault, and every problem is
// reported at once. Every event must be listed, so a typo cannot silently
// drop one; `event: {}` sends nothing. The file looks like this:
//
//	staff_locale: en                     # language of assignee and team messages (customers get their own)
//	team_webhooks:                       # team -> incoming-webhook URL; TEAM_WEBHOOK_URLS overrides
//	  security: https://hooks.slack.com/services/T000/B000/XXXX
//	events:                              # every event: audience -> channels
//	  opened: {customer: [email, marketplace_webhook]}
//	  sla_warning: {assignee: [email], team: [email, team_webhook]}
//	  security_lock: {}
func parseRoutes(data []byte, name string) (*routes, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			return nil, fmt.Errorf("%s:%s: %s", name, m[1], msg[len(m[0]):])
		}
		return nil, fmt.Errorf("%s: %s", name, msg)
	}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("%s: empty routes file", name)
	}
	p := &routesParser{name: name}
	r := &routes{staffLocale: fallbackLocale, teamWebhooks: map[string]string{}, events: map[string]map[string][]string{}}
	root := doc.Content[0]
	if !p.want(root, yaml.MappingNode, "the file", "a mapping of staff_locale, team_webhooks and events") {
		return nil, errors.Join(p.errs...)
	}
	sawEvents := false
	p.pairs(root, "", func(key, value *yaml.Node) {
		switch key.Value {
		case "staff_locale":
			if p.want(value, yaml.ScalarNode, "staff_locale", "a locale") {
				if !slices.Contains(vocab.Locales, value.Value) {
					p.failf(value, "staff_locale", "unknown locale %q (want one of %s)", value.Value, strings.Join(vocab.Locales, ", "))
				}
				r.staffLocale = value.Value
			}
		case "team_webhooks":
			p.teamWebhooks(value, r.teamWebhooks)
		case "events":
			sawEvents = true
			p.events(value, r.events)
		default:
			p.failf(key, key.Value, "unknown key (want staff_locale, team_webhooks or events)")
		}
	})
	if !sawEvents {
		p.failf(root, "events", "missing: list every event with the channels of each audience")
	} else {
		for _, event := range NotifiedEvents {
			if _, ok := r.events[event]; !ok {
				p.failf(root, "events", "event %s is not listed (write `%s: {}` to send nothing)", event, event)
			}
		}
	}
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	return r, nil
}

// yamlLine matches the line yaml's syntax errors start with.
var yamlLine = regexp.MustCompile(`^line (\d+): `)

// routesParser walks a routes file's nodes, collecting every problem with
// its line.
type routesParser struct {
	name string
	errs []error
}

func (p *routesParser) failf(n *yaml.Node, at, format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf("%s:%d: %s: %s", p.name, n.Line, at, fmt.Sprintf(format, args...)))
}

// want checks n's kind, reporting what was expected when it differs.
func (p *routesParser) want(n *yaml.Node, kind yaml.Kind, at, what string) bool {
	if n.Kind == kind {
		return true
	}
	p.failf(n, at, "want %s", what)
	return false
}

// pairs calls f with each key and value of a mapping, reporting a key given twice.
func (p *routesParser) pairs(n *yaml.Node, at string, f func(key, value *yaml.Node)) {
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key := n.Content[i]
		if seen[key.Value] {
			p.failf(key, join(at, key.Value), "given twice")
			continue
		}
		seen[key.Value] = true
		f(key, n.Content[i+1])
	}
}

func (p *routesParser) teamWebhooks(n *yaml.Node, out map[string]string) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return
	}
	if !p.want(n, yaml.MappingNode, "team_webhooks", "a mapping of team to URL") {
		return
	}
	p.pairs(n, "team_webhooks", func(key, value *yaml.Node) {
		at := join("team_webhooks", key.Value)
		if !slices.Contains(vocab.Teams, vocab.Team(key.Value)) {
			p.failf(key, at, "unknown team (want one of %s)", teamList())
			return
		}
		if !p.want(value, yaml.ScalarNode, at, "a URL") {
			return
		}
		if value.Value == "" {
			return // no webhook for this team
		}
		if !webhookURL(value.Value) {
			p.failf(value, at, "not an http or https URL")
			return
		}
		out[key.Value] = value.Value
	})
}

func (p *routesParser) events(n *yaml.Node, out map[string]map[string][]string) {
	if !p.want(n, yaml.MappingNode, "events", "a mapping of event to audiences") {
		return
	}
	p.pairs(n, "events", func(key, value *yaml.Node) {
		at := join("events", key.Value)
		if slices.Contains(CodeEvents, key.Value) {
			p.failf(key, at, "a one-time code goes only to the contact its workflow names; routes do not apply (remove it)")
			return
		}
		if !slices.Contains(NotifiedEvents, key.Value) {
			p.failf(key, at, "unknown event (want one of %s)", strings.Join(NotifiedEvents, ", "))
			return
		}
		byAudience := map[string][]string{}
		out[key.Value] = byAudience
		if value.Kind == yaml.ScalarNode && value.Tag == "!!null" {
			return
		}
		if !p.want(value, yaml.MappingNode, at, "a mapping of audience ("+strings.Join(Audiences, ", ")+") to channels") {
			return
		}
		p.pairs(value, at, func(key, value *yaml.Node) {
			at := join(at, key.Value)
			if !slices.Contains(Audiences, key.Value) {
				p.failf(key, at, "unknown audience (want one of %s)", strings.Join(Audiences, ", "))
				return
			}
			if !p.want(value, yaml.SequenceNode, at, "a list of channels, such as [email]") {
				return
			}
			var channels []string
			for i, c := range value.Content {
				at := at + "[" + strconv.Itoa(i) + "]"
				switch {
				case c.Kind != yaml.ScalarNode:
					p.failf(c, at, "want a channel name")
				case !slices.Contains(Channels, c.Value):
					p.failf(c, at, "unknown channel %q (want one of %s)", c.Value, strings.Join(Channels, ", "))
				case slices.Contains(channels, c.Value):
					p.failf(c, at, "channel %s is listed twice", c.Value)
				default:
					channels = append(channels, c.Value)
				}
			}
			byAudience[key.Value] = channels
		})
	})
}

func join(at, key string) string {
	if at == "" {
		return key
	}
	return at + "." + key
}

func teamList() string {
	names := make([]string, len(vocab.Teams))
	for i, t := range vocab.Teams {
		names[i] = string(t)
	}
	return strings.Join(names, ", ")
}

// webhookURL reports whether s is an absolute http or https URL.
func webhookURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}
