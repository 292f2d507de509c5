package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Serve runs srv on ln until ctx ends, then lets in-flight requests finish
// within shutdown. started runs once the server accepts connections (to
// log where, and to tell a test); name is what the logs call the process.
func Serve(ctx context.Context, logger *slog.Logger, name string, srv *http.Server, ln net.Listener,
	shutdown time.Duration, started func(addr string)) error {
	srvErr := make(chan error, 1)
	go func() { srvErr <- srv.Serve(ln) }()
	if started != nil {
		started(ln.Addr().String())
	}
	select {
	case <-ctx.Done():
	case err := <-srvErr:
		return fmt.Errorf("serve on %s: %w", ln.Addr(), err)
	}
	logger.Info(name+" stopping", "shutdown_timeout", shutdown)
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdown)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("stop serving on %s: %w", ln.Addr(), err)
	}
	logger.Info(name + " stopped")
	return nil
}
