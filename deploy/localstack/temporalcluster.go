package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"text/template"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/types/known/durationpb"

	"handoff/config"
	"handoff/workflows/vocab"
)

// TEMPORAL_MODE=cluster runs Temporal Server itself, built from
// go.temporal.io/server, on the stack's Postgres: the shape of a real
// deployment (several history shards, SQL visibility, services that can
// run apart) where the dev server is one process on SQLite with one shard.

// clusterRetention is how long the cluster keeps a closed workflow's history.
const clusterRetention = 72 * time.Hour

// clusterService is one Temporal service: its gRPC and membership ports
// and, when it runs alone (TEMPORAL_SERVICES=split), the port of its
// Prometheus metrics.
type clusterService struct {
	name        string
	grpc        int
	membership  int
	metricsPort string
	// maxConns bounds its Postgres connections to the default store; with
	// every service in one process, the sum is the process's bound.
	maxConns int
}

// The services in start order, the frontend last: it answers health
// checks once history and matching have joined the ring. The frontend's
// gRPC port is TEMPORAL_ADDRESS's; 0 here stands for it.
var clusterServices = []clusterService{
	{name: "history", grpc: 7234, membership: 6934, metricsPort: "7238", maxConns: 16},
	{name: "matching", grpc: 7237, membership: 6935, metricsPort: "7240", maxConns: 6},
	{name: "worker", grpc: 7239, membership: 6939, metricsPort: "7241", maxConns: 4},
	{name: "frontend", grpc: 0, membership: 6933, metricsPort: temporalMetricsPort, maxConns: 6},
}

// clusterFrontendHTTPPort is the frontend's HTTP API (the dev server's too).
const clusterFrontendHTTPPort = 7243

// temporalCluster is what the processes of one local cluster share: where
// it keeps its files, its databases, and the schema, prepared once.
type temporalCluster struct {
	cfg    config.Temporal
	local  config.LocalTemporal
	pg     *pgx.ConnConfig
	layout layout
	logger *slog.Logger
	once   sync.Once
	// schemaErr is what preparing the schema answered.
	schemaErr error
}

// databases answers the cluster's two databases. The default shard count
// uses `temporal` and `temporal_visibility`; another count gets databases
// of its own, because a cluster's shard count is fixed once created.
func (c *temporalCluster) databases() (store, visibility string) {
	if c.local.Shards == 16 {
		return "temporal", "temporal_visibility"
	}
	suffix := "_" + strconv.Itoa(c.local.Shards) + "shards"
	return "temporal" + suffix, "temporal_visibility" + suffix
}

// prepareSchema creates the cluster's databases when missing and brings
// both schemas to the server's version with its SQL tool; safe to call
// from every process's start, it runs once.
func (c *temporalCluster) prepareSchema(ctx context.Context, l launcher) error {
	c.once.Do(func() { c.schemaErr = c.runSchemaTool(ctx, l) })
	return c.schemaErr
}

func (c *temporalCluster) runSchemaTool(ctx context.Context, l launcher) error {
	tool := c.layout.bin("temporal-sql-tool")
	if _, err := os.Stat(tool); err != nil {
		return fmt.Errorf("%s not found: run `make tools`", c.layout.rel(tool))
	}
	store, visibility := c.databases()
	for _, db := range []struct{ name, schema string }{
		{store, "postgresql/v12/temporal"},
		{visibility, "postgresql/v12/visibility"},
	} {
		fresh, err := c.ensureDatabase(ctx, db.name)
		if err != nil {
			return err
		}
		steps := [][]string{{"update-schema", "--schema-name", db.schema}}
		if fresh {
			steps = append([][]string{{"setup-schema", "-v", "0.0"}}, steps...)
		}
		for _, step := range steps {
			args := append(c.toolConnection(db.name), step...)
			if err := l.run(ctx, command{part: temporalSchemaInfo, path: tool, args: args, env: c.toolEnv()}); err != nil {
				return fmt.Errorf("%s of database %s: %w", step[0], db.name, err)
			}
		}
	}
	return nil
}

// toolConnection is the SQL tool's connection flags for database db.
func (c *temporalCluster) toolConnection(db string) []string {
	args := []string{"--plugin", "postgres12", "--endpoint", c.pg.Host, "--port", strconv.Itoa(int(c.pg.Port)),
		"--user", c.pg.User, "--database", db}
	return args
}

// toolEnv passes the password by environment, never on a command line.
func (c *temporalCluster) toolEnv() []string {
	if c.pg.Password == "" {
		return nil
	}
	return []string{"SQL_PASSWORD=" + c.pg.Password}
}

// ensureDatabase creates database name when missing and answers whether
// it needs the base schema: it is new, or its base schema never finished.
func (c *temporalCluster) ensureDatabase(ctx context.Context, name string) (bool, error) {
	cc := c.pg.Copy()
	cc.Database = "postgres"
	cc.ConnectTimeout = 3 * time.Second
	created, err := createDatabase(ctx, cc, name)
	if err != nil || created {
		return created, err
	}
	cc.Database = name
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return false, fmt.Errorf("connect to database %s: %w", name, err)
	}
	defer conn.Close(ctx)
	var versioned bool
	err = conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM information_schema.tables WHERE table_name = 'schema_version')`).Scan(&versioned)
	if err != nil {
		return false, fmt.Errorf("look for the schema version of %s: %w", name, err)
	}
	return !versioned, nil
}

// dir is where the cluster's generated configuration lives.
func (c *temporalCluster) dir(elem ...string) string {
	return c.layout.dev(append([]string{"temporal-cluster"}, elem...)...)
}

// frontendPort is TEMPORAL_ADDRESS's port.
func (c *temporalCluster) frontendPort() int {
	_, port, _ := net.SplitHostPort(c.cfg.Address)
	n, _ := strconv.Atoi(port)
	return n
}

// writeConfig writes the server configuration of a process that runs
// services (every service with split false), answering its path.
func (c *temporalCluster) writeConfig(name string, services []clusterService, split bool) (string, error) {
	if err := os.MkdirAll(c.dir(), 0o755); err != nil {
		return "", fmt.Errorf("create cluster folder: %w", err)
	}
	dynamic := c.dir("dynamicconfig.yaml")
	if err := os.WriteFile(dynamic, []byte(clusterDynamicConfig), 0o644); err != nil {
		return "", fmt.Errorf("write dynamic config: %w", err)
	}
	store, visibility := c.databases()
	maxConns := 0
	for _, s := range services {
		maxConns += s.maxConns
	}
	metrics := temporalMetricsPort
	if split {
		metrics = services[0].metricsPort
	}
	data := map[string]any{
		"Shards": c.local.Shards, "Store": store, "Visibility": visibility,
		"PGAddr": net.JoinHostPort(c.pg.Host, strconv.Itoa(int(c.pg.Port))), "PGUser": c.pg.User, "PGPassword": c.pg.Password,
		"MaxConns": maxConns, "Metrics": metrics, "Dynamic": dynamic,
		"Host": bindHost(c.host()), "Frontend": c.frontendPort(), "FrontendHTTP": clusterFrontendHTTPPort,
		"Services": templateServices(), "Names": serviceNames(),
	}
	var b bytes.Buffer
	if err := clusterConfigTemplate.Execute(&b, data); err != nil {
		return "", fmt.Errorf("render cluster config: %w", err)
	}
	path := c.dir(name + ".yaml")
	// The file holds the database password, when there is one.
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		return "", fmt.Errorf("write cluster config: %w", err)
	}
	return path, nil
}

// templateServices is clusterServices as the config template reads them.
func templateServices() []map[string]int {
	var out []map[string]int
	for _, s := range clusterServices {
		out = append(out, map[string]int{"Grpc": s.grpc, "Membership": s.membership})
	}
	return out
}

func serviceNames() []string {
	var out []string
	for _, s := range clusterServices {
		out = append(out, s.name)
	}
	return out
}

func (c *temporalCluster) host() string {
	host, _, _ := net.SplitHostPort(c.cfg.Address)
	return host
}

// clusterDynamicConfig is the dynamic configuration of the local cluster.
// Unlike the dev server it keeps the search-attribute cache (forcing a
// refresh on every read costs a Postgres query per task: some 6 for each
// case opened); setup waits for the cache instead (registerSearchAttributes).
// The persistence budgets are the dev server's.
const clusterDynamicConfig = `frontend.persistenceMaxQPS:
  - value: 10000
history.persistenceMaxQPS:
  - value: 45000
frontend.enableUpdateWorkflowExecutionAsyncAccepted:
  - value: true
`

// clusterConfigTemplate is the server configuration; each process gets
// the same one but for its metrics port.
var clusterConfigTemplate = template.Must(template.New("temporal").Parse(`# Written by localstack for TEMPORAL_MODE=cluster; rewritten at every start.
log:
  stdout: true
  level: warn

persistence:
  defaultStore: default
  visibilityStore: visibility
  numHistoryShards: {{.Shards}}
  datastores:
    default:
      sql:
        pluginName: postgres12
        databaseName: {{.Store}}
        connectAddr: "{{.PGAddr}}"
        connectProtocol: tcp
        user: "{{.PGUser}}"
        password: "{{.PGPassword}}"
        maxConns: {{.MaxConns}}
        maxIdleConns: {{.MaxConns}}
        maxConnLifetime: 1h
    visibility:
      sql:
        pluginName: postgres12
        databaseName: {{.Visibility}}
        connectAddr: "{{.PGAddr}}"
        connectProtocol: tcp
        user: "{{.PGUser}}"
        password: "{{.PGPassword}}"
        maxConns: 4
        maxIdleConns: 4
        maxConnLifetime: 1h

global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: "{{.Host}}"
  metrics:
    prometheus:
      framework: tally
      timerType: histogram
      listenAddress: "{{.Host}}:{{.Metrics}}"

services:
{{- range $i, $s := .Services}}
  {{index $.Names $i}}:
    rpc:
      grpcPort: {{if eq .Grpc 0}}{{$.Frontend}}{{else}}{{.Grpc}}{{end}}
      membershipPort: {{.Membership}}
      bindOnIP: "{{$.Host}}"
{{- if eq .Grpc 0}}
      httpPort: {{$.FrontendHTTP}}
{{- end}}
{{- end}}

clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: frontend
      rpcAddress: "{{.Host}}:{{.Frontend}}"
      httpAddress: "{{.Host}}:{{.FrontendHTTP}}"

dcRedirectionPolicy:
  policy: noop

dynamicConfigClient:
  filepath: "{{.Dynamic}}"
  pollInterval: 10s
`))

// clusterProcess is one Temporal Server process of the local cluster:
// every service (TEMPORAL_SERVICES=single) or one (split).
type clusterProcess struct {
	*temporalPart
	cluster  *temporalCluster
	part     partInfo
	services []clusterService
	split    bool
}

func (p *clusterProcess) info() partInfo { return p.part }

// serves answers whether this process runs the frontend.
func (p *clusterProcess) serves(name string) bool {
	for _, s := range p.services {
		if s.name == name {
			return true
		}
	}
	return false
}

func (p *clusterProcess) address() string {
	if p.serves("frontend") {
		return p.cfg.Address
	}
	s := p.services[0]
	if s.name == "worker" {
		// The worker service serves no gRPC; it answers on its ring port.
		return net.JoinHostPort(bindHost(p.cluster.host()), strconv.Itoa(s.membership))
	}
	return net.JoinHostPort(bindHost(p.cluster.host()), strconv.Itoa(s.grpc))
}

func (p *clusterProcess) probe(ctx context.Context) error {
	if !p.serves("frontend") {
		return tcpAnswers(ctx, p.address())
	}
	if err := p.temporalPart.probe(ctx); err != nil {
		return err
	}
	return p.sameCluster(ctx)
}

// sameCluster fails when the Temporal answering is not this cluster: a dev
// server (SQLite) left running, or a cluster with another shard count.
func (p *clusterProcess) sameCluster(ctx context.Context) error {
	c, err := p.dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	info, err := c.WorkflowService().GetClusterInfo(ctx, &workflowservice.GetClusterInfoRequest{})
	if err != nil {
		return fmt.Errorf("cluster info: %w", err)
	}
	if info.GetPersistenceStore() != "postgres12" || int(info.GetHistoryShardCount()) != p.cluster.local.Shards {
		return fmt.Errorf("%w: the Temporal at %s keeps its state in %s with %d history shards, TEMPORAL_MODE=cluster wants postgres12 with %d: stop it first (`make stop`)",
			errOtherTemporal, p.cfg.Address, info.GetPersistenceStore(), info.GetHistoryShardCount(), p.cluster.local.Shards)
	}
	return nil
}

// errOtherTemporal marks a Temporal that answers but is not the one wanted.
var errOtherTemporal = errors.New("another Temporal answers")

func (p *clusterProcess) ready(ctx context.Context) error { return p.probe(ctx) }

func (p *clusterProcess) start(ctx context.Context, l launcher) (*child, error) {
	bin := p.layout.bin("temporal-server")
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("%s not found: run `make tools`", p.layout.rel(bin))
	}
	if err := p.cluster.prepareSchema(ctx, l); err != nil {
		return nil, fmt.Errorf("prepare the cluster's schema: %w", err)
	}
	file, err := p.cluster.writeConfig(p.part.name, p.services, p.split)
	if err != nil {
		return nil, err
	}
	args := []string{"--config-file", file, "--allow-no-auth", "start"}
	for _, s := range p.services {
		args = append(args, "--service", s.name)
	}
	return l.start(command{part: p.part, path: bin, args: args})
}

// setup, on the process with the frontend, registers the namespace and
// Handoff's search attributes; the other processes have nothing to set up.
func (p *clusterProcess) setup(ctx context.Context) error {
	if !p.serves("frontend") {
		return nil
	}
	if err := p.registerNamespace(ctx); err != nil {
		return err
	}
	return p.registerSearchAttributes(ctx)
}

// registerSearchAttributes registers Handoff's search attributes; when it
// added any (a new cluster), it waits until every process's cache has
// expired, so the first workflows that set them are not refused. The
// cluster runs without the dev server's refresh on every read, which would
// cost a Postgres query per task.
func (p *clusterProcess) registerSearchAttributes(ctx context.Context) error {
	added, err := p.addSearchAttributes(ctx)
	if err != nil || added == 0 {
		return err
	}
	p.cluster.logger.Info("search attributes added; waiting for the cluster's caches to serve them",
		"added", added, "wait", vocab.SearchAttributeCacheTTL)
	return vocab.AwaitSearchAttributeCaches(ctx)
}

// registerNamespace registers TEMPORAL_NAMESPACE, which the dev server
// would have made itself, and waits until it is served.
func (p *clusterProcess) registerNamespace(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	c, err := p.dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	return ensureNamespace(ctx, c.WorkflowService(), p.cfg.Namespace)
}

func (p *clusterProcess) endpoints() [][2]string {
	if !p.serves("frontend") {
		return nil
	}
	store, _ := p.cluster.databases()
	mode := "one process"
	if p.split {
		mode = "frontend, history, matching and worker apart"
	}
	return [][2]string{
		{"Temporal gRPC", fmt.Sprintf("%s (namespace %s; cluster on Postgres database %s, %d shards, %s)",
			p.cfg.Address, p.cfg.Namespace, store, p.cluster.local.Shards, mode)},
		{"Temporal metrics", "http://" + net.JoinHostPort(bindHost(p.cluster.host()), temporalMetricsPort) + "/metrics"},
	}
}

// ensureNamespace registers namespace when the cluster lacks it (the dev
// server creates its own) and waits until the frontend serves it: a new
// namespace reaches every service's cache only after a refresh.
func ensureNamespace(ctx context.Context, ws workflowservice.WorkflowServiceClient, namespace string) error {
	_, err := ws.RegisterNamespace(ctx, &workflowservice.RegisterNamespaceRequest{
		Namespace:                        namespace,
		WorkflowExecutionRetentionPeriod: durationpb.New(clusterRetention),
		Description:                      "Handoff's workflows (local cluster)",
	})
	var exists *serviceerror.NamespaceAlreadyExists
	if err != nil && !errors.As(err, &exists) {
		return fmt.Errorf("register namespace %s: %w", namespace, err)
	}
	for {
		_, err := ws.ListWorkflowExecutions(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: namespace, PageSize: 1})
		if err == nil {
			return nil
		}
		var notFound *serviceerror.NamespaceNotFound
		if !errors.As(err, &notFound) && !strings.Contains(err.Error(), "not found") {
			return fmt.Errorf("list workflows of namespace %s: %w", namespace, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("namespace %s registered but not served yet: %w", namespace, ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// clusterProcesses answers the processes of the local cluster: one with
// every service, or one per service with the frontend last.
func clusterProcesses(cluster *temporalCluster, dev *temporalPart) []infra {
	if cluster.local.Services == config.ServicesSingle {
		return []infra{&clusterProcess{temporalPart: dev, cluster: cluster, part: temporalServerInfo, services: clusterServices}}
	}
	infos := map[string]partInfo{"history": temporalHistoryInfo, "matching": temporalMatchingInfo,
		"worker": temporalWorkerInfo, "frontend": temporalFrontInfo}
	var out []infra
	for _, s := range clusterServices {
		out = append(out, &clusterProcess{temporalPart: dev, cluster: cluster, part: infos[s.name],
			services: []clusterService{s}, split: true})
	}
	return out
}
