package bench

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
)

// pngStream is a generated evidence file: the PNG signature, then
// pseudo-random bytes (which neither compress nor repeat), size bytes in
// all. It is made as it is read, a block at a time, and it seeks (each
// block is a function of the seed and its index), so the S3 SDK can
// checksum it before sending without the file ever being held whole.
type pngStream struct {
	seed      uint64
	size, off int64
	// block is the index of the block in buf, -1 for none yet.
	block int64
	buf   []byte
}

// newPNGStream answers a generated file of size bytes made from seed.
func newPNGStream(seed uint64, size int64) *pngStream {
	return &pngStream{seed: seed, size: size, block: -1, buf: make([]byte, pngBlock)}
}

// Read reads the next bytes of the file.
func (s *pngStream) Read(p []byte) (int, error) {
	if s.off >= s.size {
		return 0, io.EOF
	}
	b := s.off / pngBlock
	if b != s.block {
		s.fill(b)
	}
	start := b * pngBlock
	end := min(start+pngBlock, s.size)
	n := copy(p, s.buf[s.off-start:end-start])
	s.off += int64(n)
	return n, nil
}

// fill makes block b.
func (s *pngStream) fill(b int64) {
	rng := mrand.NewPCG(s.seed, uint64(b))
	for i := 0; i < len(s.buf); i += 8 {
		binary.LittleEndian.PutUint64(s.buf[i:], rng.Uint64())
	}
	if b == 0 {
		copy(s.buf, pngSignature)
	}
	s.block = b
}

// Seek moves to offset from whence, as io.Seeker.
func (s *pngStream) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += s.off
	case io.SeekEnd:
		offset += s.size
	default:
		return 0, fmt.Errorf("png stream: bad whence %d", whence)
	}
	if offset < 0 {
		return 0, errors.New("png stream: seek before the start")
	}
	s.off = offset
	return offset, nil
}
