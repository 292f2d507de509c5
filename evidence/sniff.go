package evidence

import (
	"bufio"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
)

// capReader reads at most limit bytes from r and fails with ErrTooLarge on
// the first byte beyond, so a stream is refused without being held.
type capReader struct {
	r     io.Reader
	limit int64
	n     int64
	over  bool
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.over {
		return 0, ErrTooLarge
	}
	// Read one byte more than allowed, to tell "exactly the limit" from "over".
	if room := c.limit - c.n + 1; int64(len(p)) > room {
		p = p[:room]
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > c.limit {
		c.over = true
		return n - int(c.n-c.limit), ErrTooLarge
	}
	return n, err
}

// sniff reads the first 512 bytes of r and answers the content type they
// show (http.DetectContentType) with a reader that still yields every byte.
// The type comes from the bytes, never from what the client says they are.
func sniff(r io.Reader) (string, io.Reader, error) {
	br := bufio.NewReaderSize(r, 512)
	head, err := br.Peek(512)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return "", nil, err
	}
	if len(head) == 0 {
		return "", nil, io.EOF
	}
	return http.DetectContentType(head), br, nil
}

// typeAllowed reports whether a sniffed type is one of allowed: equal to an
// entry, or of the same media type when the entry has no parameters.
func typeAllowed(sniffed string, allowed []string) bool {
	mt, params, err := mime.ParseMediaType(sniffed)
	if err != nil {
		return false
	}
	got := mime.FormatMediaType(mt, params)
	for _, a := range allowed {
		if a == got || (!strings.Contains(a, ";") && a == mt) {
			return true
		}
	}
	return false
}
