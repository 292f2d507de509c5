package registry_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.temporal.io/sdk/activity"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"handoff/config"
	"handoff/store"
	"handoff/worker/registry"
	"handoff/workflows/replaytest"
)

const (
	// module is the module path of the repository (go.mod).
	module = "handoff"
	// repoRoot is the repository root (module's directory), seen from this
	// package's directory.
	repoRoot = "../.."
	// workflowImport is the import path of the Temporal workflow API.
	workflowImport = "go.temporal.io/sdk/workflow"
)

// TestActivityNamesMatch fails when the worker registers an activity no
// workflow calls (dead surface anyone with access to the task queue can run)
// or a workflow calls an activity nothing registers (a workflow that hangs
// on its first attempt in production).
func TestActivityNamesMatch(t *testing.T) {
	called, problems, err := calledActivities(filepath.Join(repoRoot, "workflows"), module+"/workflows")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error(p)
	}
	registered := registeredActivities(t)
	if len(called) == 0 || len(registered) == 0 {
		t.Fatalf("found %d called and %d registered activities; the collection is broken", len(called), len(registered))
	}
	t.Logf("called: %v", slices.Sorted(maps.Keys(called)))
	t.Logf("registered: %v", slices.Sorted(maps.Keys(registered)))
	for _, name := range slices.Sorted(maps.Keys(registered)) {
		if len(called[name]) == 0 {
			t.Errorf("the worker registers activity %s (%s) but no workflow calls it: unexport the method or move it off the registered struct", name, registered[name])
		}
	}
	for _, name := range slices.Sorted(maps.Keys(called)) {
		if registered[name] == "" {
			t.Errorf("workflows call activity %q (%s) but the worker registers nothing by that name", name, strings.Join(called[name], ", "))
		}
	}
}

// TestEveryWorkflowHasAHistory fails when a workflow type the worker runs
// has no recorded history under workflows/*/testdata, so nothing replays
// it before a deploy.
func TestEveryWorkflowHasAHistory(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join(repoRoot, "workflows", "*", "testdata"))
	if err != nil {
		t.Fatal(err)
	}
	recorded := map[string]bool{}
	for _, dir := range dirs {
		types, err := replaytest.Types(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, typ := range types {
			recorded[typ] = true
		}
	}
	workflows := registry.Workflows()
	if len(workflows) == 0 {
		t.Fatal("registry.Workflows() is empty")
	}
	for _, name := range slices.Sorted(maps.Keys(workflows)) {
		if !recorded[name] {
			t.Errorf("workflow type %s has no recorded history under workflows/*/testdata: record one from a real run (HANDOFF_RECORD_HISTORY=<name>)", name)
		}
	}
}

// calledActivities answers, by activity name, where (file:line) the
// non-test code of every package under root (whose import path is
// rootImport) calls workflow.ExecuteActivity or
// workflow.ExecuteLocalActivity. The name argument must be a string
// constant of one of those packages, referred to by identifier or as
// pkg.Ident; every other call is a problem, answered with its position.
func calledActivities(root, rootImport string) (called map[string][]string, problems []string, err error) {
	fset := token.NewFileSet()
	type file struct {
		pkg string // import path
		ast *ast.File
	}
	var files []file
	consts := map[string]map[string]string{} // import path → const → value
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") || strings.HasPrefix(d.Name(), "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, filepath.Dir(path))
		if err != nil {
			return err
		}
		pkg := rootImport
		if rel != "." {
			pkg += "/" + filepath.ToSlash(rel)
		}
		files = append(files, file{pkg, f})
		if consts[pkg] == nil {
			consts[pkg] = map[string]string{}
		}
		maps.Copy(consts[pkg], stringConsts(f))
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	if len(files) == 0 {
		return nil, nil, fmt.Errorf("no Go files under %s", root)
	}

	called = map[string][]string{}
	for _, f := range files {
		imports := map[string]string{} // name in the file → import path
		wf := ""                       // the file's name for workflowImport
		for _, spec := range f.ast.Imports {
			path, _ := strconv.Unquote(spec.Path.Value)
			name := path[strings.LastIndex(path, "/")+1:]
			if spec.Name != nil {
				name = spec.Name.Name
			}
			imports[name] = path
			if path == workflowImport {
				wf = name
			}
		}
		if wf == "" || wf == "_" {
			continue
		}
		// isExecute tells whether e names workflow.ExecuteActivity or
		// workflow.ExecuteLocalActivity in this file.
		isExecute := func(e ast.Expr) bool {
			var id *ast.Ident
			switch e := e.(type) {
			case *ast.SelectorExpr:
				x, ok := e.X.(*ast.Ident)
				if !ok || x.Name != wf {
					return false
				}
				id = e.Sel
			case *ast.Ident:
				if wf != "." {
					return false
				}
				id = e
			default:
				return false
			}
			return id.Name == "ExecuteActivity" || id.Name == "ExecuteLocalActivity"
		}
		// resolve answers the activity name e names, if e is a string
		// constant of a package under root.
		resolve := func(e ast.Expr) (string, bool) {
			switch e := e.(type) {
			case *ast.Ident:
				v, ok := consts[f.pkg][e.Name]
				return v, ok
			case *ast.SelectorExpr:
				x, ok := e.X.(*ast.Ident)
				if !ok {
					return "", false
				}
				v, ok := consts[imports[x.Name]][e.Sel.Name]
				return v, ok
			}
			return "", false
		}
		at := func(n ast.Node) string {
			pos := fset.Position(n.Pos())
			return fmt.Sprintf("%s:%d", pos.Filename, pos.Line)
		}
		calls := map[ast.Expr]bool{}
		ast.Inspect(f.ast, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || !isExecute(call.Fun) {
				return true
			}
			calls[call.Fun] = true
			if len(call.Args) < 2 {
				problems = append(problems, fmt.Sprintf("%s: %s without an activity name", at(call), render(fset, call.Fun)))
				return true
			}
			name, ok := resolve(call.Args[1])
			if !ok {
				problems = append(problems, fmt.Sprintf("%s: %s names its activity with %s; use a string constant of the workflow contract (e.g. ActivityNotify)", at(call), render(fset, call.Fun), render(fset, call.Args[1])))
				return true
			}
			called[name] = append(called[name], at(call))
			return true
		})
		// A workflow.ExecuteActivity taken as a value would call names
		// this test cannot see.
		ast.Inspect(f.ast, func(n ast.Node) bool {
			if e, ok := n.(ast.Expr); ok && isExecute(e) && !calls[e] {
				problems = append(problems, fmt.Sprintf("%s: %s is used other than as a direct call", at(e), render(fset, e)))
			}
			return true
		})
	}
	return called, problems, nil
}

// stringConsts answers the package-level constants f declares with a
// string literal value.
func stringConsts(f *ast.File) map[string]string {
	consts := map[string]string{}
	for _, decl := range f.Decls {
		gen, ok := decl.(*ast.GenDecl)
		if !ok || gen.Tok != token.CONST {
			continue
		}
		for _, spec := range gen.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if i >= len(vs.Values) {
					break
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					continue
				}
				if v, err := strconv.Unquote(lit.Value); err == nil {
					consts[name.Name] = v
				}
			}
		}
	}
	return consts
}

func render(fset *token.FileSet, e ast.Expr) string {
	var b strings.Builder
	_ = printer.Fprint(&b, fset, e)
	return b.String()
}

// registeredActivities runs registry.Register against a recording
// registry and answers, by activity name, what registered it. The deps
// need no database, Temporal or S3: the activities are constructed, never
// called.
func registeredActivities(t *testing.T) map[string]string {
	t.Helper()
	env := map[string]string{
		"NOTIFY_ROUTES_FILE": filepath.Join(repoRoot, "deploy", "notifications.yaml"),
		"SLA_POLICY_FILE":    filepath.Join(repoRoot, "deploy", "sla", "default.yaml"),
		// The http directory is built without a pool; the activity
		// structs registered are the same as with postgres.
		"ACCOUNT_DIRECTORY":      "http",
		"ACCOUNT_SERVICE_URL":    "http://127.0.0.1:1",
		"ACCOUNT_SERVICE_SECRET": strings.Repeat("s", 32),
	}
	cfg, err := config.LoadFrom(func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{t: t, activities: map[string]string{}, workflows: map[string]bool{}}
	err = registry.Register(rec, registry.Deps{
		Config: cfg,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		// A Store that never connected and an S3 client that never sent
		// a request: the activities only hold them.
		Store: new(store.Store),
		S3:    s3.New(s3.Options{Region: cfg.S3.Region}),
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := slices.Sorted(maps.Keys(registry.Workflows())); !slices.Equal(slices.Sorted(maps.Keys(rec.workflows)), want) {
		t.Errorf("Register registered workflows %v, want registry.Workflows() %v", slices.Sorted(maps.Keys(rec.workflows)), want)
	}
	return rec.activities
}

// recorder is a worker.Registry that records names the way the SDK
// registers them: a struct pointer under each exported method's name
// (prefixed by RegisterOptions.Name), a function under its own name or
// RegisterOptions.Name. The embedded Registry is nil: a registration this
// recorder does not implement (a Nexus service) panics, so a new kind of
// registration fails the test until the test learns it.
type recorder struct {
	sdkworker.Registry
	t          *testing.T
	activities map[string]string // name → what registered it
	workflows  map[string]bool
}

var _ sdkworker.Registry = (*recorder)(nil)

func (r *recorder) RegisterWorkflow(w any) {
	r.RegisterWorkflowWithOptions(w, workflow.RegisterOptions{})
}

func (r *recorder) RegisterWorkflowWithOptions(w any, options workflow.RegisterOptions) {
	name := options.Name
	if name == "" {
		name = funcName(w)
	}
	r.workflows[name] = true
}

func (r *recorder) RegisterDynamicWorkflow(any, workflow.DynamicRegisterOptions) {
	r.t.Error("Register registers a dynamic workflow; this test cannot check what it runs")
}

func (r *recorder) RegisterActivity(a any) {
	r.RegisterActivityWithOptions(a, activity.RegisterOptions{})
}

func (r *recorder) RegisterActivityWithOptions(a any, options activity.RegisterOptions) {
	typ := reflect.TypeOf(a)
	if typ.Kind() == reflect.Pointer && typ.Elem().Kind() == reflect.Struct {
		count := 0
		for i := range typ.NumMethod() {
			m := typ.Method(i)
			if !m.IsExported() {
				continue
			}
			if !activityShape(m.Type) {
				if options.SkipInvalidStructFunctions {
					continue
				}
				r.t.Errorf("%s.%s is exported but not an activity (it must return error or (result, error)); the SDK panics registering %s", typ, m.Name, typ)
				continue
			}
			r.add(options.Name+m.Name, typ.String()+"."+m.Name)
			count++
		}
		if count == 0 {
			r.t.Errorf("%s has no exported methods to register", typ)
		}
		return
	}
	if typ.Kind() != reflect.Func {
		r.t.Errorf("RegisterActivity(%T): want a function or a struct pointer", a)
		return
	}
	name := options.Name
	if name == "" {
		name = funcName(a)
	}
	r.add(name, funcName(a))
}

func (r *recorder) add(name, by string) {
	if prev, ok := r.activities[name]; ok {
		r.t.Errorf("activity %s registered twice (%s and %s)", name, prev, by)
	}
	r.activities[name] = by
}

func (r *recorder) RegisterDynamicActivity(any, activity.DynamicRegisterOptions) {
	r.t.Error("Register registers a dynamic activity; this test cannot check what it runs")
}

// activityShape tells whether a method (its receiver first) returns what an
// activity must: error, or a result and an error.
func activityShape(fn reflect.Type) bool {
	errType := reflect.TypeFor[error]()
	n := fn.NumOut()
	return (n == 1 || n == 2) && fn.Out(n-1).Implements(errType)
}

// funcName answers a function's short name, as the SDK does: the last
// element of its runtime name, without the -fm of a method value.
func funcName(fn any) string {
	full := runtime.FuncForPC(reflect.ValueOf(fn).Pointer()).Name()
	return strings.TrimSuffix(full[strings.LastIndex(full, ".")+1:], "-fm")
}

// TestCalledActivitiesRefusesNonConstantNames checks the collector on a
// small tree: constants resolve by identifier and by pkg.Ident under any
// import name, and every other way of naming an activity is a problem.
func TestCalledActivitiesRefusesNonConstantNames(t *testing.T) {
	root := t.TempDir()
	write := func(path, src string) {
		t.Helper()
		path = filepath.Join(root, path)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("contract/contract.go", `package contract

const (
	ActivityA      = "A"
	ActivityB Kind = "B"
	notString      = 1
)

type Kind string
`)
	write("area/area.go", `package area

import (
	wf "go.temporal.io/sdk/workflow"

	c "example/workflows/contract"
)

const ActivityLocal = "Local"

var dynamic = "Dynamic"

func Run(ctx wf.Context, f func()) {
	wf.ExecuteActivity(ctx, c.ActivityA)
	wf.ExecuteLocalActivity(ctx, ActivityLocal)
	wf.ExecuteActivity(ctx, c.ActivityB)
	wf.ExecuteActivity(ctx, "Literal")
	wf.ExecuteActivity(ctx, dynamic)
	wf.ExecuteActivity(ctx, f)
	wf.ExecuteActivity(ctx, c.Missing)
	exec := wf.ExecuteActivity
	_ = exec
}
`)
	write("area/area_test.go", `package area

import "go.temporal.io/sdk/workflow"

func t(ctx workflow.Context) { workflow.ExecuteActivity(ctx, "InTest") }
`)
	write("area/testdata/x.go", `package x

import "go.temporal.io/sdk/workflow"

func t(ctx workflow.Context) { workflow.ExecuteActivity(ctx, "InTestdata") }
`)
	called, problems, err := calledActivities(root, "example/workflows")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := slices.Sorted(maps.Keys(called)), []string{"A", "B", "Local"}; !slices.Equal(got, want) {
		t.Errorf("called %v, want %v", got, want)
	}
	want := []string{`"Literal"`, "dynamic", "f", "c.Missing", "used other than as a direct call"}
	if len(problems) != len(want) {
		t.Errorf("got %d problems, want %d: %q", len(problems), len(want), problems)
	}
	for i, p := range problems {
		if i < len(want) && (!strings.Contains(p, want[i]) || !strings.Contains(p, "area.go:")) {
			t.Errorf("problem %d = %q, want it to name %s at area.go:<line>", i, p, want[i])
		}
	}
}
