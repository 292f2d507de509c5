package main

import (
	"context"
	"fmt"
	"net"
	"os"
)

// temporalUIPart is the Web UI of the local cluster, the UI server built
// from github.com/temporalio/ui-server (the dev server has it built in),
// on the dev server's UI port so links and CODEC_CORS_ORIGINS stay true.
type temporalUIPart struct {
	cluster *temporalCluster
	// codecEndpoint is the API's codec, as for the dev server's UI.
	codecEndpoint string
}

func (u *temporalUIPart) info() partInfo { return temporalUIInfo }

func (u *temporalUIPart) address() string {
	return net.JoinHostPort(bindHost(u.cluster.host()), temporalUIPort)
}

func (u *temporalUIPart) probe(ctx context.Context) error {
	return httpOK(ctx, "http://"+u.address()+"/")
}

func (u *temporalUIPart) ready(ctx context.Context) error { return u.probe(ctx) }

func (u *temporalUIPart) startable() error { return requireLoopback(u.cluster.cfg.Address) }

func (u *temporalUIPart) start(_ context.Context, l launcher) (*child, error) {
	bin := u.cluster.layout.bin("temporal-ui-server")
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("%s not found: run `make tools`", u.cluster.layout.rel(bin))
	}
	dir := u.cluster.dir("ui")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create UI config folder: %w", err)
	}
	// The UI server reads <dir>/<env>.yaml; news fetching would reach out
	// of this machine at every page.
	conf := fmt.Sprintf(`temporalGrpcAddress: %q
host: %q
port: %s
enableUi: true
defaultNamespace: %q
disableNewsFetch: true
refreshInterval: 1m
cors:
  cookieInsecure: true
codec:
  endpoint: %q
`, u.cluster.cfg.Address, bindHost(u.cluster.host()), temporalUIPort,
		u.cluster.cfg.Namespace, u.codecEndpoint)
	if err := os.WriteFile(dir+"/local.yaml", []byte(conf), 0o644); err != nil {
		return nil, fmt.Errorf("write UI config: %w", err)
	}
	return l.start(command{part: temporalUIInfo, path: bin,
		args: []string{"--root", dir, "--config", ".", "--env", "local", "start"}})
}

func (u *temporalUIPart) setup(context.Context) error { return nil }

func (u *temporalUIPart) endpoints() [][2]string {
	return [][2]string{{"Temporal UI", "http://" + u.address()}}
}
