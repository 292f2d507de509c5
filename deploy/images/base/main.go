// Command base writes the static base image the API and worker images are
// built on, as an OCI image layout, without Docker and without a registry.
//
// The image holds one layer: /etc/passwd and /etc/group naming root, nobody
// and the nonroot user and group 65532, /etc/nsswitch.conf, the CA bundle
// (from the machine's Debian ca-certificates by default), /tmp with mode
// 1777 and the home folders of root and nonroot. Every entry, and the
// config, carries the same fixed timestamp (the Unix epoch), so the same
// inputs give the same bytes and the same digest. The config runs as
// 65532:65532. Time zones come from time/tzdata embedded in
// the binaries, so /usr/share/zoneinfo is not included.
//
//	go run ./deploy/images/base -out .dev/images/base
//
// It prints the digest of the image it wrote.
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// NonrootID is the user and group id the image runs as, the one distroless
// calls nonroot.
const NonrootID = 65532

// Epoch is the timestamp of every file in the layer and of the image config:
// the images are reproducible, so no build time goes in.
var Epoch = time.Unix(0, 0).UTC()

// RefName is the org.opencontainers.image.ref.name annotation the image is
// given in the layout's index.
const RefName = "handoff-base"

// Options says what goes into the base image.
type Options struct {
	// CACertificates is the PEM bundle written to
	// /etc/ssl/certs/ca-certificates.crt.
	CACertificates []byte
	// Platform is the os and architecture recorded in the config.
	Platform v1.Platform
}

// entry is one file or folder of the layer.
type entry struct {
	name string
	mode int64
	uid  int
	body []byte // nil for a folder
}

const passwd = `root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
`

const group = `root:x:0:
nobody:x:65534:
nonroot:x:65532:
`

// nsswitch makes Go's resolver read /etc/hosts before asking DNS, as glibc
// systems do.
const nsswitch = `hosts: files dns
`

func entries(o Options) []entry {
	return []entry{
		{name: "etc/", mode: 0o755},
		{name: "etc/group", mode: 0o644, body: []byte(group)},
		{name: "etc/nsswitch.conf", mode: 0o644, body: []byte(nsswitch)},
		{name: "etc/passwd", mode: 0o644, body: []byte(passwd)},
		{name: "etc/ssl/", mode: 0o755},
		{name: "etc/ssl/certs/", mode: 0o755},
		{name: "etc/ssl/certs/ca-certificates.crt", mode: 0o644, body: o.CACertificates},
		{name: "home/", mode: 0o755},
		{name: "home/nonroot/", mode: 0o700, uid: NonrootID},
		{name: "root/", mode: 0o700},
		{name: "tmp/", mode: 0o1777},
	}
}

// layerBytes returns the gzipped tar of the layer, the same bytes for the
// same options.
func layerBytes(o Options) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, fmt.Errorf("base: gzip writer: %w", err)
	}
	tw := tar.NewWriter(zw)
	for _, e := range entries(o) {
		h := &tar.Header{
			Name:    e.name,
			Mode:    e.mode,
			Uid:     e.uid,
			Gid:     e.uid,
			ModTime: Epoch,
			Format:  tar.FormatPAX,
		}
		if e.uid == NonrootID {
			h.Uname, h.Gname = "nonroot", "nonroot"
		} else {
			h.Uname, h.Gname = "root", "root"
		}
		if e.body == nil {
			h.Typeflag = tar.TypeDir
		} else {
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("base: tar header %s: %w", e.name, err)
		}
		if e.body != nil {
			if _, err := tw.Write(e.body); err != nil {
				return nil, fmt.Errorf("base: tar body %s: %w", e.name, err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("base: closing tar: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("base: closing gzip: %w", err)
	}
	return buf.Bytes(), nil
}

// Build returns the base image for the options.
func Build(o Options) (v1.Image, error) {
	if len(o.CACertificates) == 0 {
		return nil, fmt.Errorf("base: no CA certificates given")
	}
	if o.Platform.OS == "" || o.Platform.Architecture == "" {
		return nil, fmt.Errorf("base: platform %q has no os or architecture", o.Platform.String())
	}
	gz, err := layerBytes(o)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(gz)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("base: layer: %w", err)
	}

	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.Append(img, mutate.Addendum{
		Layer: layer,
		History: v1.History{
			Created:   v1.Time{Time: Epoch},
			CreatedBy: "handoff deploy/images/base",
			Comment:   "passwd, group, nsswitch.conf, CA certificates, /tmp",
		},
	})
	if err != nil {
		return nil, fmt.Errorf("base: appending layer: %w", err)
	}

	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("base: reading config: %w", err)
	}
	cf = cf.DeepCopy()
	cf.OS = o.Platform.OS
	cf.Architecture = o.Platform.Architecture
	cf.Variant = o.Platform.Variant
	cf.Created = v1.Time{Time: Epoch}
	cf.Config.User = fmt.Sprintf("%d:%d", NonrootID, NonrootID)
	cf.Config.WorkingDir = "/home/nonroot"
	cf.Config.Env = []string{
		"PATH=/usr/local/bin:/usr/bin:/bin",
		"SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("base: setting config: %w", err)
	}
	return img, nil
}

// WriteLayout replaces dir with an OCI image layout holding img alone, and
// returns the image's digest.
func WriteLayout(dir string, img v1.Image) (v1.Hash, error) {
	digest, err := img.Digest()
	if err != nil {
		return v1.Hash{}, fmt.Errorf("base: image digest: %w", err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return v1.Hash{}, fmt.Errorf("base: clearing %s: %w", dir, err)
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("base: creating layout %s: %w", dir, err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return v1.Hash{}, fmt.Errorf("base: reading config: %w", err)
	}
	err = p.AppendImage(img,
		layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": RefName}),
		layout.WithPlatform(v1.Platform{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant}),
	)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("base: writing image to %s: %w", dir, err)
	}
	return digest, nil
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("base", flag.ContinueOnError)
	out := fs.String("out", ".dev/images/base", "folder the OCI image layout is written to (replaced)")
	ca := fs.String("ca", "/etc/ssl/certs/ca-certificates.crt", "PEM bundle of CA certificates to include")
	platform := fs.String("platform", "linux/amd64", "os/architecture[/variant] of the image")
	if err := fs.Parse(args); err != nil {
		return err
	}
	pem, err := os.ReadFile(*ca)
	if err != nil {
		return fmt.Errorf("base: reading CA certificates: %w", err)
	}
	p, err := v1.ParsePlatform(*platform)
	if err != nil {
		return fmt.Errorf("base: platform %q: %w", *platform, err)
	}
	img, err := Build(Options{CACertificates: pem, Platform: *p})
	if err != nil {
		return err
	}
	digest, err := WriteLayout(*out, img)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s\n", digest)
	return nil
}

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
