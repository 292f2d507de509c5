// Command k8sschema writes the standalone JSON schemas kubeconform reads,
// one file per kind, from sources available offline: the OpenAPI v3
// documents of the Kubernetes API (api/openapi-spec/v3 of the
// k8s.io/kubernetes module, as `go mod download` puts it in the module
// cache) and CustomResourceDefinition YAML files (KEDA's, for example).
//
//	go run ./deploy/k8sschema -openapi DIR [-crd FILE]... -out DIR
//
// Files are named like kubeconform's schema-location template
// `{{ .ResourceKind }}{{ .KindSuffix }}.json` expects: deployment-apps-v1.json,
// service-v1.json, scaledobject-keda-v1alpha1.json. Every schema is strict:
// an object that lists its properties rejects any other one, unless it
// preserves unknown fields, so a misspelt field fails validation.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// crdFiles collects the repeated -crd flag.
type crdFiles []string

// String lists the files, as flag.Value asks.
func (c *crdFiles) String() string { return strings.Join(*c, ",") }

// Set adds one file, as flag.Value asks.
func (c *crdFiles) Set(v string) error {
	*c = append(*c, v)
	return nil
}

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "k8sschema:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("k8sschema", flag.ContinueOnError)
	openapiDir := fs.String("openapi", "", "folder of Kubernetes OpenAPI v3 documents (*_openapi.json)")
	out := fs.String("out", "", "folder to write the schemas into")
	var crds crdFiles
	fs.Var(&crds, "crd", "CustomResourceDefinition YAML file (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || (*openapiDir == "" && len(crds) == 0) {
		return errors.New("want -out and at least one of -openapi, -crd")
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", *out, err)
	}
	n := 0
	if *openapiDir != "" {
		written, err := writeOpenAPI(*openapiDir, *out)
		if err != nil {
			return err
		}
		n += written
	}
	for _, f := range crds {
		written, err := writeCRD(f, *out)
		if err != nil {
			return err
		}
		n += written
	}
	fmt.Fprintf(stdout, "k8sschema: %d schemas written to %s\n", n, *out)
	return nil
}

// gvk is one entry of x-kubernetes-group-version-kind.
type gvk struct {
	Group, Version, Kind string
}

// fileName is the schema file kubeconform looks for: the lower-case kind,
// the first label of the group (none for the core group) and the version.
func (g gvk) fileName() string {
	suffix := "-" + strings.ToLower(g.Version)
	if g.Group != "" {
		suffix = "-" + strings.ToLower(strings.Split(g.Group, ".")[0]) + suffix
	}
	return strings.ToLower(g.Kind) + suffix + ".json"
}

const refPrefix = "#/components/schemas/"

// writeOpenAPI merges the component schemas of every OpenAPI v3 document
// in dir and writes one standalone schema per kind.
func writeOpenAPI(dir, out string) (int, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*_openapi.json"))
	if err != nil {
		return 0, fmt.Errorf("list %s: %w", dir, err)
	}
	if len(files) == 0 {
		return 0, fmt.Errorf("no *_openapi.json in %s", dir)
	}
	defs := map[string]map[string]any{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return 0, fmt.Errorf("read OpenAPI document: %w", err)
		}
		var doc struct {
			Components struct {
				Schemas map[string]map[string]any `json:"schemas"`
			} `json:"components"`
		}
		if err := json.Unmarshal(data, &doc); err != nil {
			return 0, fmt.Errorf("decode %s: %w", f, err)
		}
		for name, s := range doc.Components.Schemas {
			defs[name] = s
		}
	}
	names := make([]string, 0, len(defs))
	for name := range defs {
		names = append(names, name)
	}
	sort.Strings(names)
	n := 0
	for _, name := range names {
		kinds, err := groupVersionKinds(defs[name])
		if err != nil {
			return n, fmt.Errorf("schema %s: %w", name, err)
		}
		// Schemas shared by many kinds (DeleteOptions, WatchEvent) are
		// not resources one applies.
		if len(kinds) != 1 {
			continue
		}
		reached := map[string]bool{}
		if err := reach(defs, name, reached); err != nil {
			return n, err
		}
		definitions := map[string]any{}
		for r := range reached {
			if r != name {
				definitions[r] = strictCopy(rewriteRefs(defs[r]))
			}
		}
		root := strictCopy(rewriteRefs(defs[name])).(map[string]any)
		if len(definitions) > 0 {
			root["definitions"] = definitions
		}
		if err := writeJSON(filepath.Join(out, kinds[0].fileName()), root); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// groupVersionKinds reads the x-kubernetes-group-version-kind of a schema.
func groupVersionKinds(s map[string]any) ([]gvk, error) {
	raw, ok := s["x-kubernetes-group-version-kind"]
	if !ok {
		return nil, nil
	}
	list, ok := raw.([]any)
	if !ok {
		return nil, errors.New("x-kubernetes-group-version-kind is not a list")
	}
	var kinds []gvk
	for _, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			return nil, errors.New("x-kubernetes-group-version-kind entry is not an object")
		}
		g, _ := m["group"].(string)
		v, _ := m["version"].(string)
		k, _ := m["kind"].(string)
		kinds = append(kinds, gvk{Group: g, Version: v, Kind: k})
	}
	return kinds, nil
}

// reach marks name and every schema it refers to, directly or not.
func reach(defs map[string]map[string]any, name string, seen map[string]bool) error {
	if seen[name] {
		return nil
	}
	s, ok := defs[name]
	if !ok {
		return fmt.Errorf("reference to unknown schema %s", name)
	}
	seen[name] = true
	var refs []string
	collectRefs(s, &refs)
	for _, r := range refs {
		if err := reach(defs, r, seen); err != nil {
			return err
		}
	}
	return nil
}

// collectRefs appends the schema names v refers to.
func collectRefs(v any, refs *[]string) {
	switch t := v.(type) {
	case map[string]any:
		for k, child := range t {
			if s, ok := child.(string); ok && k == "$ref" && strings.HasPrefix(s, refPrefix) {
				*refs = append(*refs, strings.TrimPrefix(s, refPrefix))
				continue
			}
			collectRefs(child, refs)
		}
	case []any:
		for _, child := range t {
			collectRefs(child, refs)
		}
	}
}

// rewriteRefs copies v with every component reference pointing into the
// standalone file's definitions instead.
func rewriteRefs(v any) any {
	switch t := v.(type) {
	case map[string]any:
		c := make(map[string]any, len(t))
		for k, child := range t {
			if s, ok := child.(string); ok && k == "$ref" {
				c[k] = "#/definitions/" + strings.TrimPrefix(s, refPrefix)
				continue
			}
			c[k] = rewriteRefs(child)
		}
		return c
	case []any:
		c := make([]any, len(t))
		for i, child := range t {
			c[i] = rewriteRefs(child)
		}
		return c
	default:
		return v
	}
}

// strictCopy copies v, closing every object schema that lists properties
// and says nothing of others, unless it preserves unknown fields. Only
// schema positions are closed: the values of "properties" and
// "definitions" are maps of names, not schemas.
func strictCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		c := make(map[string]any, len(t))
		for k, child := range t {
			switch k {
			case "properties", "definitions", "patternProperties":
				if m, ok := child.(map[string]any); ok {
					named := make(map[string]any, len(m))
					for name, s := range m {
						named[name] = strictCopy(s)
					}
					c[k] = named
					continue
				}
			case "enum", "default", "example", "required":
				c[k] = child // data, not schemas
				continue
			}
			c[k] = strictCopy(child)
		}
		_, hasProps := t["properties"]
		_, hasAdditional := t["additionalProperties"]
		preserve, _ := t["x-kubernetes-preserve-unknown-fields"].(bool)
		if hasProps && !hasAdditional && !preserve {
			c["additionalProperties"] = false
		}
		return c
	case []any:
		c := make([]any, len(t))
		for i, child := range t {
			c[i] = strictCopy(child)
		}
		return c
	default:
		return v
	}
}

// writeCRD writes one schema per served version of a
// CustomResourceDefinition YAML file (documents of other kinds are skipped).
func writeCRD(file, out string) (int, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return 0, fmt.Errorf("read CRD: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	n := 0
	for {
		var crd struct {
			Kind string `yaml:"kind"`
			Spec struct {
				Group string `yaml:"group"`
				Names struct {
					Kind string `yaml:"kind"`
				} `yaml:"names"`
				Versions []struct {
					Name   string `yaml:"name"`
					Schema struct {
						OpenAPIV3Schema map[string]any `yaml:"openAPIV3Schema"`
					} `yaml:"schema"`
				} `yaml:"versions"`
			} `yaml:"spec"`
		}
		if err := dec.Decode(&crd); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return n, fmt.Errorf("decode %s: %w", file, err)
		}
		if crd.Kind != "CustomResourceDefinition" {
			continue
		}
		for _, v := range crd.Spec.Versions {
			if v.Schema.OpenAPIV3Schema == nil {
				return n, fmt.Errorf("%s: version %s of %s has no openAPIV3Schema", file, v.Name, crd.Spec.Names.Kind)
			}
			g := gvk{Group: crd.Spec.Group, Version: v.Name, Kind: crd.Spec.Names.Kind}
			root := strictCopy(v.Schema.OpenAPIV3Schema).(map[string]any)
			// A CRD's schema leaves metadata open; the API server checks it.
			if err := writeJSON(filepath.Join(out, g.fileName()), root); err != nil {
				return n, err
			}
			n++
		}
	}
	if n == 0 {
		return 0, fmt.Errorf("%s: no CustomResourceDefinition found", file)
	}
	return n, nil
}

func writeJSON(path string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("write schema: %w", err)
	}
	return nil
}
