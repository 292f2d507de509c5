package config

import (
	"crypto/tls"
	"fmt"
	"log/slog"

	"go.temporal.io/sdk/client"

	tlog "go.temporal.io/sdk/log"
	"handoff/codec"
)

// ClientOptions turns the settings into Temporal client options: TLS when
// asked for or implied (client certificate, API key), the API key as
// credentials, every payload sealed by the codec of the payload keys, logs
// through logger and SDK metrics through metrics (nil keeps the SDK's
// no-op handler).
func (t Temporal) ClientOptions(logger *slog.Logger, metrics client.MetricsHandler) (client.Options, error) {
	opts := client.Options{
		HostPort:       t.Address,
		Namespace:      t.Namespace,
		Logger:         tlog.NewStructuredLogger(logger),
		MetricsHandler: metrics,
	}
	if t.TLS || t.TLSCertPath != "" || t.APIKey != "" {
		tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.TLSServerName}
		if t.TLSCertPath != "" {
			cert, err := tls.LoadX509KeyPair(t.TLSCertPath, t.TLSKeyPath)
			if err != nil {
				return client.Options{}, fmt.Errorf("load Temporal client certificate: %w", err)
			}
			tc.Certificates = []tls.Certificate{cert}
		}
		opts.ConnectionOptions.TLS = tc
	}
	if t.APIKey != "" {
		opts.Credentials = client.NewAPIKeyStaticCredentials(t.APIKey)
	}
	c, err := t.Codec()
	if err != nil {
		return client.Options{}, err
	}
	opts.DataConverter, opts.FailureConverter = c.DataConverter(), c.FailureConverter()
	return opts, nil
}

// Codec answers the payload codec of the configured keys.
func (t Temporal) Codec() (*codec.Codec, error) {
	ring, err := codec.LoadKeys(t.PayloadKeys, t.PayloadKeysFile)
	if err != nil {
		return nil, err
	}
	return codec.New(ring), nil
}

// The Temporal the local stack can start (TEMPORAL_MODE) and how it runs
// the cluster's services (TEMPORAL_SERVICES).
const (
	TemporalDev     = "dev"
	TemporalCluster = "cluster"
	ServicesSingle  = "single"
	ServicesSplit   = "split"
)

// LocalTemporal is the Temporal the local stack starts when none answers.
type LocalTemporal struct {
	// Mode is TemporalDev (the CLI's dev server) or TemporalCluster
	// (Temporal Server persisting to Postgres, and the UI server).
	Mode string
	// Services is ServicesSingle (one process) or ServicesSplit (one
	// process per service); only for the cluster.
	Services string
	// Shards is the number of history shards of a new cluster.
	Shards int
}
