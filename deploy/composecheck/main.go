// Command composecheck validates Compose files offline: against the
// Compose Specification's JSON schema (schema/compose-spec.json of the
// github.com/compose-spec/compose-go/v2 module, read from the module cache),
// then for what the schema cannot say: every depends_on names a service,
// a service_healthy condition names a service with a healthcheck, and every
// named volume, secret and config a service uses is declared at top level.
//
//	go run ./deploy/composecheck -schema FILE compose.yaml...
//
// YAML anchors and merge keys (<<) are resolved before the checks, as
// Compose resolves them.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "composecheck:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("composecheck", flag.ContinueOnError)
	schemaFile := fs.String("schema", "", "the Compose Specification JSON schema (compose-spec.json)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *schemaFile == "" || fs.NArg() == 0 {
		return errors.New("want -schema FILE and at least one Compose file")
	}
	schema, err := compileSchema(*schemaFile)
	if err != nil {
		return err
	}
	failed := 0
	for _, file := range fs.Args() {
		if err := check(schema, file); err != nil {
			fmt.Fprintf(stdout, "%s: INVALID\n%v\n", file, err)
			failed++
			continue
		}
		fmt.Fprintf(stdout, "%s: valid\n", file)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d Compose files invalid", failed, fs.NArg())
	}
	return nil
}

// compileSchema loads the Compose schema from its file.
func compileSchema(file string) (*jsonschema.Schema, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("open Compose schema: %w", err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		return nil, fmt.Errorf("decode Compose schema %s: %w", file, err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("compose-spec.json", doc); err != nil {
		return nil, fmt.Errorf("add Compose schema: %w", err)
	}
	s, err := c.Compile("compose-spec.json")
	if err != nil {
		return nil, fmt.Errorf("compile Compose schema: %w", err)
	}
	return s, nil
}

// check validates one Compose file.
func check(schema *jsonschema.Schema, file string) error {
	doc, err := load(file)
	if err != nil {
		return err
	}
	if err := schema.Validate(doc); err != nil {
		return fmt.Errorf("against the Compose schema: %w", err)
	}
	problems := references(doc.(map[string]any))
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "\n"))
	}
	return nil
}

// load reads a YAML file into the JSON values the validator expects:
// YAML decoding resolves anchors and merge keys, and a round trip through
// JSON gives numbers the validator's own representation.
func load(file string) (any, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read Compose file: %w", err)
	}
	var v map[string]any
	if err := yaml.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("decode %s: %w", file, err)
	}
	if v == nil {
		return nil, fmt.Errorf("%s is empty", file)
	}
	j, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode %s as JSON: %w", file, err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
	if err != nil {
		return nil, fmt.Errorf("decode %s as JSON: %w", file, err)
	}
	return doc, nil
}

// references lists the cross-references of doc that do not resolve.
func references(doc map[string]any) []string {
	services, _ := doc["services"].(map[string]any)
	declared := func(section string) map[string]bool {
		m, _ := doc[section].(map[string]any)
		names := map[string]bool{}
		for n := range m {
			names[n] = true
		}
		return names
	}
	volumes, secrets, configs := declared("volumes"), declared("secrets"), declared("configs")
	var problems []string
	names := make([]string, 0, len(services))
	for n := range services {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		svc, _ := services[name].(map[string]any)
		for dep, cond := range dependsOn(svc["depends_on"]) {
			target, ok := services[dep].(map[string]any)
			switch {
			case !ok:
				problems = append(problems, fmt.Sprintf("service %s depends on unknown service %s", name, dep))
			case cond == "service_healthy" && !hasHealthcheck(target):
				problems = append(problems, fmt.Sprintf("service %s waits for %s to be healthy, which has no healthcheck", name, dep))
			}
		}
		vols, _ := svc["volumes"].([]any)
		for _, v := range vols {
			if src := volumeSource(v); src != "" && !volumes[src] {
				problems = append(problems, fmt.Sprintf("service %s mounts undeclared volume %s", name, src))
			}
		}
		for section, known := range map[string]map[string]bool{"secrets": secrets, "configs": configs} {
			refs, _ := svc[section].([]any)
			for _, r := range refs {
				src, _ := r.(string)
				if m, ok := r.(map[string]any); ok {
					src, _ = m["source"].(string)
				}
				if !known[src] {
					problems = append(problems, fmt.Sprintf("service %s uses undeclared %s entry %s", name, section, src))
				}
			}
		}
	}
	return problems
}

// dependsOn reads depends_on in its short (list) or long (map) form as
// service name to condition.
func dependsOn(v any) map[string]string {
	deps := map[string]string{}
	switch t := v.(type) {
	case []any:
		for _, d := range t {
			if s, ok := d.(string); ok {
				deps[s] = "service_started"
			}
		}
	case map[string]any:
		for d, spec := range t {
			cond := "service_started"
			if m, ok := spec.(map[string]any); ok {
				if c, ok := m["condition"].(string); ok {
					cond = c
				}
			}
			deps[d] = cond
		}
	}
	return deps
}

// hasHealthcheck says whether svc defines a healthcheck that is not disabled.
func hasHealthcheck(svc map[string]any) bool {
	hc, ok := svc["healthcheck"].(map[string]any)
	if !ok {
		return false
	}
	disabled, _ := hc["disable"].(bool)
	return !disabled
}

// volumeSource answers the named volume a service volume entry mounts, or
// "" for a bind mount, a tmpfs or an anonymous volume.
func volumeSource(v any) string {
	var src, typ string
	switch t := v.(type) {
	case string:
		parts := strings.SplitN(t, ":", 2)
		if len(parts) < 2 {
			return ""
		}
		src = parts[0]
	case map[string]any:
		src, _ = t["source"].(string)
		typ, _ = t["type"].(string)
		if typ != "" && typ != "volume" {
			return ""
		}
	}
	if src == "" || strings.HasPrefix(src, ".") || strings.HasPrefix(src, "/") || strings.HasPrefix(src, "~") || strings.HasPrefix(src, "$") {
		return ""
	}
	return src
}
