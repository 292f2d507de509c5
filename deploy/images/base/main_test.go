package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// testPEM stands in for the CA bundle: the builder copies it, it does not
// parse it.
const testPEM = "-----BEGIN CERTIFICATE-----\nMIIBtest\n-----END CERTIFICATE-----\n"

var amd64 = v1.Platform{OS: "linux", Architecture: "amd64"}

// writeBase builds the base with the test bundle into a fresh layout and
// returns the folder and the digest run printed.
func writeBase(t *testing.T) (string, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "base")
	ca := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(ca, []byte(testPEM), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run([]string{"-out", dir, "-ca", ca, "-platform", "linux/amd64"}, &out); err != nil {
		t.Fatalf("run: %v", err)
	}
	return dir, strings.TrimSpace(out.String())
}

func TestLayoutIsReproducible(t *testing.T) {
	dir1, d1 := writeBase(t)
	dir2, d2 := writeBase(t)
	if d1 != d2 {
		t.Fatalf("two builds gave %s and %s", d1, d2)
	}
	for _, dir := range []string{dir1, dir2} {
		idx, err := layout.ImageIndexFromPath(dir)
		if err != nil {
			t.Fatalf("reading layout %s: %v", dir, err)
		}
		im, err := idx.IndexManifest()
		if err != nil {
			t.Fatal(err)
		}
		if len(im.Manifests) != 1 || im.Manifests[0].Digest.String() != d1 {
			t.Fatalf("layout %s index = %+v, want the one image %s", dir, im.Manifests, d1)
		}
		if got := im.Manifests[0].Annotations["org.opencontainers.image.ref.name"]; got != RefName {
			t.Errorf("ref.name = %q, want %q", got, RefName)
		}
	}
}

func TestLayoutImageRunsAsNonroot(t *testing.T) {
	dir, digest := writeBase(t)
	img := readImage(t, dir, digest)

	mt, err := img.MediaType()
	if err != nil {
		t.Fatal(err)
	}
	if mt != types.OCIManifestSchema1 {
		t.Errorf("media type = %s, want %s", mt, types.OCIManifestSchema1)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.Config.User != "65532:65532" {
		t.Errorf("User = %q, want 65532:65532", cf.Config.User)
	}
	if cf.OS != "linux" || cf.Architecture != "amd64" {
		t.Errorf("platform = %s/%s, want linux/amd64", cf.OS, cf.Architecture)
	}
	if !cf.Created.Time.Equal(Epoch) {
		t.Errorf("Created = %v, want %v", cf.Created.Time, Epoch)
	}

	files := layerFiles(t, img)
	want := map[string]struct {
		mode int64
		uid  int
	}{
		"etc/passwd":                        {0o644, 0},
		"etc/group":                         {0o644, 0},
		"etc/nsswitch.conf":                 {0o644, 0},
		"etc/ssl/certs/ca-certificates.crt": {0o644, 0},
		"tmp/":                              {0o1777, 0},
		"home/nonroot/":                     {0o700, NonrootID},
	}
	for name, w := range want {
		f, ok := files[name]
		if !ok {
			t.Errorf("layer has no %s", name)
			continue
		}
		if f.hdr.Mode != w.mode || f.hdr.Uid != w.uid || f.hdr.Gid != w.uid {
			t.Errorf("%s: mode %o uid %d gid %d, want mode %o uid/gid %d",
				name, f.hdr.Mode, f.hdr.Uid, f.hdr.Gid, w.mode, w.uid)
		}
	}
	for name, f := range files {
		if !f.hdr.ModTime.Equal(Epoch) {
			t.Errorf("%s: mtime %v, want %v", name, f.hdr.ModTime, Epoch)
		}
	}
	if got := string(files["etc/ssl/certs/ca-certificates.crt"].body); got != testPEM {
		t.Errorf("CA bundle = %q, want the given one", got)
	}
	if !strings.Contains(string(files["etc/passwd"].body), "nonroot:x:65532:65532:") {
		t.Errorf("/etc/passwd names no nonroot 65532:\n%s", files["etc/passwd"].body)
	}
	if !strings.Contains(string(files["etc/group"].body), "nonroot:x:65532:") {
		t.Errorf("/etc/group names no nonroot 65532:\n%s", files["etc/group"].body)
	}
}

func TestBuildRefusesMissingInputs(t *testing.T) {
	if _, err := Build(Options{Platform: amd64}); err == nil {
		t.Error("Build without CA certificates: no error")
	}
	if _, err := Build(Options{CACertificates: []byte(testPEM)}); err == nil {
		t.Error("Build without a platform: no error")
	}
	var out bytes.Buffer
	err := run([]string{"-out", t.TempDir(), "-ca", filepath.Join(t.TempDir(), "missing.crt")}, &out)
	if err == nil {
		t.Error("run with a missing CA file: no error")
	}
}

func TestDifferentBundleDifferentDigest(t *testing.T) {
	a, err := Build(Options{CACertificates: []byte(testPEM), Platform: amd64})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Build(Options{CACertificates: []byte(testPEM + testPEM), Platform: amd64})
	if err != nil {
		t.Fatal(err)
	}
	da, _ := a.Digest()
	db, _ := b.Digest()
	if da == db {
		t.Errorf("different bundles gave the same digest %s", da)
	}
}

type file struct {
	hdr  *tar.Header
	body []byte
}

func readImage(t *testing.T, dir, digest string) v1.Image {
	t.Helper()
	p, err := layout.FromPath(dir)
	if err != nil {
		t.Fatalf("opening layout: %v", err)
	}
	h, err := v1.NewHash(digest)
	if err != nil {
		t.Fatalf("printed digest %q: %v", digest, err)
	}
	img, err := p.Image(h)
	if err != nil {
		t.Fatalf("image %s: %v", digest, err)
	}
	return img
}

func layerFiles(t *testing.T, img v1.Image) map[string]file {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	if len(layers) != 1 {
		t.Fatalf("%d layers, want 1", len(layers))
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	files := map[string]file{}
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("reading layer: %v", err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[hdr.Name] = file{hdr: hdr, body: body}
	}
	return files
}
