package bench

import (
	"bytes"
	"crypto/sha256"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPNGStreamYieldsExactlyItsSizeAndSniffsAsPNG(t *testing.T) {
	for _, size := range []int64{8, 9, 511, 512, 513, pngBlock - 1, pngBlock, pngBlock + 1, 3*pngBlock + 5, 1<<20 + 3} {
		s := newPNGStream(42, size)
		head := make([]byte, 512)
		n, err := io.ReadFull(s, head)
		if size >= 512 {
			require.NoError(t, err)
		}
		assert.Equal(t, "image/png", http.DetectContentType(head[:n]), "size %d", size)
		rest, err := io.Copy(io.Discard, s)
		require.NoError(t, err)
		assert.Equal(t, size, int64(n)+rest, "size %d", size)
	}
}

func TestPNGStreamSeeksBackToTheSameBytes(t *testing.T) {
	const size = 3*pngBlock + 1000
	s := newPNGStream(7, size)
	first, err := io.ReadAll(s)
	require.NoError(t, err)
	require.Len(t, first, size)

	// As the S3 SDK does: read it all for a checksum, seek back, read again.
	_, err = s.Seek(0, io.SeekStart)
	require.NoError(t, err)
	again, err := io.ReadAll(s)
	require.NoError(t, err)
	assert.Equal(t, sha256.Sum256(first), sha256.Sum256(again))

	for _, off := range []int64{1, pngBlock - 3, 2*pngBlock + 17} {
		_, err := s.Seek(off, io.SeekStart)
		require.NoError(t, err)
		part := make([]byte, 100)
		_, err = io.ReadFull(s, part)
		require.NoError(t, err)
		assert.Equal(t, first[off:off+100], part, "offset %d", off)
	}
	end, err := s.Seek(0, io.SeekEnd)
	require.NoError(t, err)
	assert.Equal(t, int64(size), end)
	n, err := s.Read(make([]byte, 10))
	assert.Equal(t, 0, n)
	assert.ErrorIs(t, err, io.EOF)
	_, err = s.Seek(-1, io.SeekStart)
	assert.Error(t, err)
}

func TestPNGStreamsOfOtherSeedsDiffer(t *testing.T) {
	a, err := io.ReadAll(newPNGStream(1, 4096))
	require.NoError(t, err)
	b, err := io.ReadAll(newPNGStream(2, 4096))
	require.NoError(t, err)
	assert.Equal(t, a[:8], b[:8], "both start with the PNG signature")
	assert.NotEqual(t, a, b)
}

func TestEvidenceFormDeclaresItsLengthAndCarriesTheFile(t *testing.T) {
	const size = pngBlock + 12345
	body, length, contentType, err := evidenceForm("tracking.png", 9, size)
	require.NoError(t, err)
	raw, err := io.ReadAll(body)
	require.NoError(t, err)
	assert.Equal(t, int64(len(raw)), length)

	mediaType, params, err := mime.ParseMediaType(contentType)
	require.NoError(t, err)
	assert.Equal(t, "multipart/form-data", mediaType)
	mr := multipart.NewReader(bytes.NewReader(raw), params["boundary"])
	kind, err := mr.NextPart()
	require.NoError(t, err)
	assert.Equal(t, "kind", kind.FormName(), "kind comes before the file, as the API wants")
	file, err := mr.NextPart()
	require.NoError(t, err)
	assert.Equal(t, "file", file.FormName())
	data, err := io.ReadAll(file)
	require.NoError(t, err)
	want, err := io.ReadAll(newPNGStream(9, size))
	require.NoError(t, err)
	assert.Equal(t, want, data)
	_, err = mr.NextPart()
	assert.ErrorIs(t, err, io.EOF)
}

func TestMedianRateOfUploads(t *testing.T) {
	mib := int64(1 << 20)
	assert.InDelta(t, 2.0, medianRate(mib, []time.Duration{time.Second / 4, time.Second / 2, 10 * time.Second}), 1e-9)
	assert.InDelta(t, 3.0, medianRate(mib, []time.Duration{time.Second / 2, time.Second / 4}), 1e-9)
	assert.True(t, medianRate(mib, nil) != medianRate(mib, nil), "no uploads is NaN")
}

func TestSizeLabel(t *testing.T) {
	assert.Equal(t, "1 MiB", sizeLabel(1<<20))
	assert.Equal(t, "100 MiB", sizeLabel(100<<20))
	assert.Equal(t, "64 KiB", sizeLabel(64<<10))
	assert.Equal(t, "1000 B", sizeLabel(1000))
}
