//go:build integration

package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"handoff/codec"
	"handoff/stacktest"
	"handoff/store"
	"handoff/workflows/cases"
	"handoff/workflows/vocab"
)

// The Temporal Web UI in a real browser: the stack's UI (http://localhost:8233,
// up under `make run` and `make test` alike) and the test's own API as the
// codec endpoint the browser's settings name, which shares the payload keys
// and the API keys' database with the stack. A
// browser that has not signed in at /codec/session sees a case's payloads
// sealed; one signed in with an admin key, whose UI sends cross-origin
// credentials, sees the case in clear. With HANDOFF_SCREENSHOTS_DIR=docs/images
// the pictures are the README's.

const (
	// webUIBase is the stack's Web UI: localhost, the same site as the codec
	// endpoint below, so the sign-in cookie (SameSite=Lax) rides its calls.
	webUIBase = "http://localhost:8233"
)

// The Web UI's codec settings (its "Codec Server" dialog) are kept in the
// browser's localStorage under these names, each a JSON value: the
// endpoint, "include cross-origin credentials", and whether the browser's
// settings override the server's.
const (
	webUIEndpointKey           = "endpoint"
	webUIIncludeCredentialsKey = "includeCredentials"
	webUIOverrideKey           = "overrideRemoteCodecConfiguration"
)

// webUIShot writes the whole page at a desktop's width to
// dir/<name>-desktop.png: the Web UI is not made for a phone's.
func webUIShot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(1440, 1000, chromedp.EmulateScale(1))))
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err, "screenshot %s", name)
	path := filepath.Join(dir, name+"-desktop.png")
	require.NoError(t, os.WriteFile(path, png, 0o644))
	t.Logf("screenshot %s", path)
}

// pageTextWith waits until the page's text holds want and answers it.
func pageTextWith(t *testing.T, ctx context.Context, want string) string {
	t.Helper()
	w, err := json.Marshal(want)
	require.NoError(t, err)
	expr := `(() => { const t = document.body ? document.body.innerText : ""; return t.includes(` + string(w) + `) ? t : false })()`
	deadline := time.Now().Add(45 * time.Second)
	var out string
	for {
		// A navigation under way (a form's answer, the UI's redirects) ends
		// the page's script context mid-poll: poll the new page.
		out, err = chromedp.Run(ctx, chromedp.Poll[string](expr,
			chromedp.WithPollingTimeout(time.Until(deadline)), chromedp.WithPollingInterval(250*time.Millisecond)))
		if err == nil || !strings.Contains(err.Error(), "context") || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		now, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
		t.Fatalf("the page never showed %q: %v; it shows:\n%s", want, err, now)
	}
	return out
}

func TestWebUIShowsCiphertextWithoutTheCodecAndTheCaseWithIt(t *testing.T) {
	s := newCaseStack(t)
	body := newCaseBody(vocab.CategoryLoginFailure)
	body.Customer.Name = "Grace Hopper"
	body.Subject = "I cannot sign in since my password was changed"
	v := s.open(t, store.RoleIntegration, body)
	// The test's API, by the UI's host name: the same site as the UI, so
	// the sign-in cookie (SameSite=Lax) rides the UI's codec calls. The
	// API `make run` starts on :8080 is not up under `make test`.
	webUICodec := strings.Replace(s.base, "//127.0.0.1:", "//localhost:", 1) + "/codec"
	workflowID := cases.CaseWorkflowID(v.ID)
	desc, err := s.tc.DescribeWorkflowExecution(stacktest.Context(t), workflowID, "")
	require.NoError(t, err)
	runID := desc.GetWorkflowExecutionInfo().GetExecution().GetRunId()
	page := webUIBase + "/namespaces/" + url.PathEscape(s.cfg.Temporal.Namespace) +
		"/workflows/" + url.PathEscape(workflowID) + "/" + url.PathEscape(runID) + "/history"
	dir := stacktest.ScreenshotsDir(t)
	ctx := stacktest.Browser(t)
	require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(1440, 1000, chromedp.EmulateScale(1))))

	// Without a sign-in the UI's codec calls are refused: it shows the
	// sealed payloads, their encoding and the id of the key.
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(page)))
	// The UI shows metadata values as base64, as history stores them.
	sealed := pageTextWith(t, ctx, `"`+codec.MetadataKeyID+`"`)
	assert.Contains(t, sealed, base64.StdEncoding.EncodeToString([]byte(codec.Encoding)), "the encoding binary/encrypted")
	for _, pii := range []string{body.Customer.Email, body.Customer.Name, body.Subject} {
		assert.NotContains(t, sealed, pii)
	}
	webUIShot(t, ctx, dir, "webui-without-codec")

	// An operator signs in with an admin key, then turns on the UI's
	// "include cross-origin credentials": the same page shows the case.
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(strings.TrimSuffix(webUICodec, "/codec")+codecSessionPath)))
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS(`input[name="key"]`), s.keys[store.RoleAdmin].Secret),
		chromedp.Submit(chromedp.CSS(`input[name="key"]`))))
	pageTextWith(t, ctx, "Signed in as")

	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(webUIBase+"/namespaces/"+url.PathEscape(s.cfg.Temporal.Namespace)+"/workflows")))
	settings, err := json.Marshal(map[string]string{
		webUIEndpointKey: `"` + webUICodec + `"`, webUIIncludeCredentialsKey: "true", webUIOverrideKey: "true",
	})
	require.NoError(t, err)
	_, err = chromedp.Run(ctx, chromedp.Evaluate[bool](
		`(() => { const s = `+string(settings)+`; for (const k in s) localStorage.setItem(k, s[k]); return true })()`))
	require.NoError(t, err, "the Web UI's codec settings")
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(page)))
	clear := pageTextWith(t, ctx, body.Customer.Email)
	assert.NotContains(t, clear, base64.StdEncoding.EncodeToString([]byte(codec.Encoding)))
	assert.NotContains(t, clear, `"`+codec.MetadataKeyID+`"`)
	webUIShot(t, ctx, dir, "webui-with-codec")
}
