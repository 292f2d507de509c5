package main

import (
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
	"go.yaml.in/yaml/v3"

	"handoff/config"
)

func testCluster(t *testing.T, shards int) *temporalCluster {
	t.Helper()
	pg, err := pgx.ParseConfig("postgres://temporal:s3cret@127.0.0.1:5432/handoff")
	if err != nil {
		t.Fatal(err)
	}
	return &temporalCluster{
		cfg:    config.Temporal{Address: "127.0.0.1:7233", Namespace: "default"},
		local:  config.LocalTemporal{Mode: config.TemporalCluster, Services: config.ServicesSplit, Shards: shards},
		pg:     pg,
		layout: layout{root: t.TempDir()},
	}
}

// serverConfig is the part of Temporal Server's configuration the tests read.
type serverConfig struct {
	Persistence struct {
		NumHistoryShards int `yaml:"numHistoryShards"`
		Datastores       map[string]struct {
			SQL struct {
				DatabaseName string `yaml:"databaseName"`
				User         string `yaml:"user"`
				Password     string `yaml:"password"`
				MaxConns     int    `yaml:"maxConns"`
			} `yaml:"sql"`
		} `yaml:"datastores"`
	} `yaml:"persistence"`
	Global struct {
		Metrics struct {
			Prometheus struct {
				ListenAddress string `yaml:"listenAddress"`
			} `yaml:"prometheus"`
		} `yaml:"metrics"`
	} `yaml:"global"`
	Services map[string]struct {
		RPC struct {
			GRPCPort       int    `yaml:"grpcPort"`
			MembershipPort int    `yaml:"membershipPort"`
			BindOnIP       string `yaml:"bindOnIP"`
			HTTPPort       int    `yaml:"httpPort"`
		} `yaml:"rpc"`
	} `yaml:"services"`
}

func readServerConfig(t *testing.T, path string) serverConfig {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var sc serverConfig
	if err := yaml.Unmarshal(raw, &sc); err != nil {
		t.Fatalf("the written config is not YAML: %v\n%s", err, raw)
	}
	return sc
}

func TestClusterConfigNamesTheShardsDatabasesAndEveryServicePort(t *testing.T) {
	c := testCluster(t, 16)
	path, err := c.writeConfig("temporal-server", clusterServices, false)
	if err != nil {
		t.Fatal(err)
	}
	sc := readServerConfig(t, path)
	if sc.Persistence.NumHistoryShards != 16 {
		t.Errorf("numHistoryShards = %d, want 16", sc.Persistence.NumHistoryShards)
	}
	if got := sc.Persistence.Datastores["default"].SQL; got.DatabaseName != "temporal" || got.User != "temporal" || got.Password != "s3cret" || got.MaxConns != 32 {
		t.Errorf("default store = %+v, want database temporal as temporal with 32 connections (every service's)", got)
	}
	if got := sc.Persistence.Datastores["visibility"].SQL.DatabaseName; got != "temporal_visibility" {
		t.Errorf("visibility database = %q", got)
	}
	if got := sc.Global.Metrics.Prometheus.ListenAddress; got != "127.0.0.1:"+temporalMetricsPort {
		t.Errorf("metrics at %q, want the dev server's port %s", got, temporalMetricsPort)
	}
	if got := sc.Services["frontend"].RPC; got.GRPCPort != 7233 || got.HTTPPort != clusterFrontendHTTPPort || got.BindOnIP != "127.0.0.1" {
		t.Errorf("frontend rpc = %+v, want TEMPORAL_ADDRESS's port 7233", got)
	}
	seen := map[int]string{}
	for name, s := range sc.Services {
		for _, port := range []int{s.RPC.GRPCPort, s.RPC.MembershipPort} {
			if other, dup := seen[port]; dup {
				t.Errorf("port %d used by %s and %s", port, other, name)
			}
			seen[port] = name
		}
	}
	if len(sc.Services) != 4 {
		t.Errorf("services = %d, want frontend, history, matching and worker", len(sc.Services))
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("config holds the database password, mode = %v (%v), want 0600", st.Mode().Perm(), err)
	}
}

func TestSplitProcessesServeOneServiceEachWithMetricsApart(t *testing.T) {
	c := testCluster(t, 4)
	procs := clusterProcesses(c, &temporalPart{cfg: c.cfg, layout: c.layout})
	if len(procs) != 4 {
		t.Fatalf("split = %d processes, want 4", len(procs))
	}
	if last := procs[3].(*clusterProcess); !last.serves("frontend") {
		t.Errorf("the last process serves %v, want the frontend last", last.services)
	}
	ports := map[string]bool{}
	for _, p := range procs {
		cp := p.(*clusterProcess)
		path, err := c.writeConfig(cp.part.name, cp.services, cp.split)
		if err != nil {
			t.Fatal(err)
		}
		sc := readServerConfig(t, path)
		addr := sc.Global.Metrics.Prometheus.ListenAddress
		if ports[addr] {
			t.Errorf("%s serves metrics on %s, like another process", cp.part.name, addr)
		}
		ports[addr] = true
		if got := sc.Persistence.Datastores["default"].SQL; got.DatabaseName != "temporal_4shards" || got.MaxConns != cp.services[0].maxConns {
			t.Errorf("%s default store = %+v, want temporal_4shards with %d connections", cp.part.name, got, cp.services[0].maxConns)
		}
	}
	if _, vis := c.databases(); vis != "temporal_visibility_4shards" {
		t.Errorf("visibility database for 4 shards = %q", vis)
	}
}
