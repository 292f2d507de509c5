package sla

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// keys is a path in the document, such as ("policies", 2, "calendar"):
// strings are mapping keys, ints sequence indexes.
type keys []any

// key starts a key path.
func key(k ...any) keys { return k }

// and answers the path extended by more, never sharing memory with k.
func (k keys) and(more ...any) keys { return append(slices.Clip(k), more...) }

// String writes a key path as policies[2].calendar.
func (k keys) String() string {
	var sb strings.Builder
	for _, part := range k {
		if i, ok := part.(int); ok {
			fmt.Fprintf(&sb, "[%d]", i)
			continue
		}
		if sb.Len() > 0 {
			sb.WriteByte('.')
		}
		fmt.Fprint(&sb, part)
	}
	return sb.String()
}

// lineOf answers the line of the key (or item) at path in the document, or of
// the deepest part of it that exists; 0 when unknown.
func lineOf(n *yaml.Node, path keys) int {
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := n.Line
	for _, k := range path {
		next := (*yaml.Node)(nil)
		switch k := k.(type) {
		case string:
			for i := 0; n.Kind == yaml.MappingNode && i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == k {
					next, line = n.Content[i+1], n.Content[i].Line
					break
				}
			}
		case int:
			if n.Kind == yaml.SequenceNode && k < len(n.Content) {
				next = n.Content[k]
				line = next.Line
			}
		}
		if next == nil {
			break
		}
		n = next
	}
	return line
}

var (
	// yamlLine, unknownField and wrongKind match yaml's messages.
	yamlLine     = regexp.MustCompile(`^(?:yaml: )?line (\d+): `)
	unknownField = regexp.MustCompile(`field (\S+) not found in type \S+`)
	wrongKind    = regexp.MustCompile("cannot unmarshal !!\\w+ `([^`]*)` into (\\S+)")
)

// yamlError rewords yaml's errors for people who write the file, not Go, in
// the same "file:line: problem" form as validation errors.
func yamlError(name string, err error) error {
	msgs := []string{err.Error()}
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	errs := make([]error, len(msgs))
	for i, m := range msgs {
		m = yamlLine.ReplaceAllString(m, name+":$1: ")
		m = unknownField.ReplaceAllString(m, `unknown key "$1"`)
		if sub := wrongKind.FindStringSubmatch(m); sub != nil {
			m = strings.Replace(m, sub[0], fmt.Sprintf("%q is not %s", sub[1], kindName(sub[2])), 1)
		}
		if !strings.HasPrefix(m, name+":") {
			m = name + ": " + strings.TrimPrefix(m, "yaml: ")
		}
		errs[i] = errors.New(m)
	}
	return errors.Join(errs...)
}

// kindName says in words what a Go type holds.
func kindName(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	case goType == "float64":
		return "a number"
	case goType == "bool":
		return "true or false"
	case goType == "string":
		return "a single value"
	default:
		return "a mapping"
	}
}
