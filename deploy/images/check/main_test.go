package main

import (
	"archive/tar"
	"bytes"
	"io"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// image returns an image with one layer holding name (mode mode) and the
// given config user and entrypoint.
func image(t *testing.T, name string, mode int64, user string, entrypoint ...string) v1.Image {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	body := []byte("\x7fELF not really")
	if err := tw.WriteHeader(&tar.Header{Name: "ko-app/", Typeflag: tar.TypeDir, Mode: 0o755}); err != nil {
		t.Fatal(err)
	}
	if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: mode, Size: int64(len(body))}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write(body); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(buf.Bytes())), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.Config.User = user
	cf.Config.Entrypoint = entrypoint
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestCheck(t *testing.T) {
	cases := []struct {
		name    string
		img     v1.Image
		wantErr string
	}{
		{"good", image(t, "ko-app/api", 0o755, "65532:65532", "/ko-app/api"), ""},
		{"user only", image(t, "ko-app/api", 0o755, "65532", "/ko-app/api"), ""},
		{"root by id", image(t, "ko-app/api", 0o755, "0", "/ko-app/api"), "root or unset"},
		{"root group", image(t, "ko-app/api", 0o755, "65532:0", "/ko-app/api"), "root or unset"},
		{"root by name", image(t, "ko-app/api", 0o755, "root", "/ko-app/api"), "root or unset"},
		{"no user", image(t, "ko-app/api", 0o755, "", "/ko-app/api"), "root or unset"},
		{"no entrypoint", image(t, "ko-app/api", 0o755, "65532:65532"), "no entrypoint"},
		{"missing binary", image(t, "ko-app/api", 0o755, "65532:65532", "/ko-app/worker"), "not in the image"},
		{"not executable", image(t, "ko-app/api", 0o644, "65532:65532", "/ko-app/api"), "not executable"},
		{"relative", image(t, "ko-app/api", 0o755, "65532:65532", "ko-app/api"), "not an absolute path"},
		{"a folder", image(t, "ko-app/api", 0o755, "65532:65532", "/ko-app"), "not a regular file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := Check(c.img)
			if c.wantErr == "" {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				want, _ := c.img.Digest()
				if r.Digest != want || r.Size <= 0 {
					t.Errorf("report = %+v, want digest %s and a size", r, want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("Check error = %v, want one saying %q", err, c.wantErr)
			}
		})
	}
}

func TestCheckLayout(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "img")
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run([]string{dir}, &out); err == nil || !strings.Contains(err.Error(), "holds no image") {
		t.Fatalf("empty layout: error = %v", err)
	}
	good := image(t, "ko-app/worker", 0o755, "65532:65532", "/ko-app/worker")
	if err := p.AppendImage(good); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run([]string{dir}, &out); err != nil {
		t.Fatalf("run: %v", err)
	}
	d, _ := good.Digest()
	if !strings.Contains(out.String(), d.String()) || !strings.Contains(out.String(), "user 65532:65532") {
		t.Errorf("output %q names neither the digest %s nor the user", out.String(), d)
	}
	if err := p.AppendImage(image(t, "ko-app/worker", 0o755, "0:0", "/ko-app/worker")); err != nil {
		t.Fatal(err)
	}
	if err := run([]string{dir}, &out); err == nil {
		t.Error("layout with a root image passed")
	}
}
