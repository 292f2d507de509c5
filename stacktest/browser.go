package stacktest

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ChromiumPath is where Debian's chromium package puts the browser the
// real-browser tests drive. A browser a tool downloads does not run here.
const ChromiumPath = "/usr/bin/chromium"

// browserHint says how to get the browser when it is missing.
const browserHint = "install Debian's package with `apt-get install chromium` (.ci/run installs it when it is missing)"

// Browser starts headless Chromium for t and answers a context of its one
// tab, ending after two minutes; the browser is closed, and its fresh
// profile removed, when t ends. A missing browser fails t with how to
// install it: the browser tests are never skipped.
func Browser(t testing.TB) context.Context {
	t.Helper()
	if _, err := os.Stat(ChromiumPath); err != nil {
		t.Fatalf("headless Chromium is missing at %s (%v): %s", ChromiumPath, err, browserHint)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(ChromiumPath),
		chromedp.Flag("headless", "new"),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		// Without these, the browser's own connections (updates, sync,
		// QUIC probes) are refused by the closed network, many at a time.
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelTab()   // closes the tab and the browser
		cancelAlloc() // waits for the process to end
	})
	// The first Run starts the browser, tied to ctx rather than to the
	// deadline below.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("headless Chromium at %s does not start: %v; %s", ChromiumPath, err, browserHint)
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// Viewport is a window size pages are looked at in.
type Viewport struct {
	Name          string
	Width, Height int64
	Mobile        bool
}

// Viewports are the widths the customer pages are pictured at: a phone's
// and a desktop's.
var Viewports = []Viewport{
	{Name: "phone", Width: 390, Height: 844, Mobile: true},
	{Name: "desktop", Width: 1280, Height: 900},
}

// ScreenshotsDir answers the folder t writes its screenshots to:
// HANDOFF_SCREENSHOTS_DIR when set (a relative path is from the
// repository's root, so `HANDOFF_SCREENSHOTS_DIR=docs/pages` writes the
// committed pictures), else a folder of the test's own.
func ScreenshotsDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("HANDOFF_SCREENSHOTS_DIR")
	if dir == "" {
		return t.TempDir()
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(RepoRoot(t), dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("screenshots folder: %v", err)
	}
	return dir
}

// Screenshot writes the whole page shown in ctx's tab at each of
// Viewports to dir/<name>-<viewport>.png, and leaves the tab at the last
// viewport.
func Screenshot(t testing.TB, ctx context.Context, dir, name string) {
	t.Helper()
	for _, v := range Viewports {
		opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(1)}
		if v.Mobile {
			opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch)
		}
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(v.Width, v.Height, opts...)); err != nil {
			t.Fatalf("screenshot %s at %s width: %v", name, v.Name, err)
		}
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100 is a PNG
		if err != nil {
			t.Fatalf("screenshot %s at %s width: %v", name, v.Name, err)
		}
		path := filepath.Join(dir, name+"-"+v.Name+".png")
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		t.Logf("screenshot %s", path)
	}
}
