// Command check verifies the images in an OCI image layout before they ship:
// each one must run as a non-root user and its entrypoint must be an
// executable file in the image's filesystem.
//
//	go run ./deploy/images/check .dev/images/handoff-api
//
// For each image it prints the digest, the compressed size, the user and the
// entrypoint, and it exits non-zero on the first image that fails.
package main

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// Report is what check found out about one image.
type Report struct {
	Digest     v1.Hash
	Size       int64 // manifest, config and compressed layers, in bytes
	User       string
	Entrypoint []string
}

// NonRoot reports whether a config User names someone other than root: it
// must be set, and neither its user nor its group part may be 0 or root.
func NonRoot(user string) bool {
	if user == "" {
		return false
	}
	for _, part := range strings.Split(user, ":") {
		if part == "" || part == "0" || part == "root" {
			return false
		}
	}
	return true
}

// Check verifies one image and reports on it.
func Check(img v1.Image) (Report, error) {
	var r Report
	var err error
	if r.Digest, err = img.Digest(); err != nil {
		return r, fmt.Errorf("check: digest: %w", err)
	}
	if r.Size, err = imageSize(img); err != nil {
		return r, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return r, fmt.Errorf("check: %s: config: %w", r.Digest, err)
	}
	r.User = cf.Config.User
	r.Entrypoint = cf.Config.Entrypoint
	if !NonRoot(r.User) {
		return r, fmt.Errorf("check: %s: config User %q is root or unset", r.Digest, r.User)
	}
	if len(r.Entrypoint) == 0 {
		return r, fmt.Errorf("check: %s: no entrypoint", r.Digest)
	}
	bin := r.Entrypoint[0]
	if !path.IsAbs(bin) {
		return r, fmt.Errorf("check: %s: entrypoint %q is not an absolute path", r.Digest, bin)
	}
	if err := findExecutable(img, bin); err != nil {
		return r, fmt.Errorf("check: %s: %w", r.Digest, err)
	}
	return r, nil
}

func imageSize(img v1.Image) (int64, error) {
	m, err := img.Manifest()
	if err != nil {
		return 0, fmt.Errorf("check: manifest: %w", err)
	}
	raw, err := img.RawManifest()
	if err != nil {
		return 0, fmt.Errorf("check: raw manifest: %w", err)
	}
	size := int64(len(raw)) + m.Config.Size
	for _, l := range m.Layers {
		size += l.Size
	}
	return size, nil
}

// findExecutable looks for bin in the flattened filesystem of img, following
// no links: it must be a regular file with an execute bit.
func findExecutable(img v1.Image, bin string) error {
	rc := mutate.Extract(img)
	defer rc.Close()
	want := strings.TrimPrefix(path.Clean(bin), "/")
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("entrypoint %s is not in the image", bin)
		}
		if err != nil {
			return fmt.Errorf("reading the image filesystem: %w", err)
		}
		if strings.TrimPrefix(path.Clean("/"+hdr.Name), "/") != want {
			continue
		}
		if hdr.Typeflag != tar.TypeReg {
			return fmt.Errorf("entrypoint %s is not a regular file (type %q)", bin, hdr.Typeflag)
		}
		if hdr.Mode&0o111 == 0 {
			return fmt.Errorf("entrypoint %s is not executable (mode %o)", bin, hdr.Mode)
		}
		if hdr.Size == 0 {
			return fmt.Errorf("entrypoint %s is empty", bin)
		}
		return nil
	}
}

// CheckLayout checks every image the layout's index names.
func CheckLayout(dir string) ([]Report, error) {
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("check: opening layout %s: %w", dir, err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return nil, fmt.Errorf("check: %s: index: %w", dir, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("check: %s: index manifest: %w", dir, err)
	}
	var reports []Report
	for _, desc := range im.Manifests {
		if !desc.MediaType.IsImage() {
			continue
		}
		img, err := p.Image(desc.Digest)
		if err != nil {
			return reports, fmt.Errorf("check: %s: image %s: %w", dir, desc.Digest, err)
		}
		r, err := Check(img)
		if err != nil {
			return reports, err
		}
		reports = append(reports, r)
	}
	if len(reports) == 0 {
		return nil, fmt.Errorf("check: %s holds no image", dir)
	}
	return reports, nil
}

func run(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: check OCI-LAYOUT-DIR [OCI-LAYOUT-DIR ...]")
	}
	for _, dir := range args {
		reports, err := CheckLayout(dir)
		if err != nil {
			return err
		}
		for _, r := range reports {
			fmt.Fprintf(stdout, "%s\t%s\t%d bytes\tuser %s\tentrypoint %s\n",
				dir, r.Digest, r.Size, r.User, strings.Join(r.Entrypoint, " "))
		}
	}
	return nil
}

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
