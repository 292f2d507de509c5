package kb

import (
	"fmt"
	"strings"
)

// Document is what a diff compares of an article's version: its title
// line, a blank line, then its Markdown.
func Document(title, body string) string {
	return title + "\n\n" + body
}

// DiffContext is how many unchanged lines a hunk shows around a change.
const DiffContext = 3

// maxEditDistance bounds the diff's work: two versions further apart than
// this many inserted and deleted lines (between their common head and
// tail) diff as one hunk replacing the whole middle, in bounded time and
// memory whatever the bodies (Myers' algorithm keeps O(D²) here).
const maxEditDistance = 1000

// Unified answers the unified diff of a into b ("---", "+++" headers
// naming fromName and toName, "@@" hunks with DiffContext lines of
// context), or "" when they are equal. Line ends are normalised to "\n".
func Unified(fromName, toName, a, b string) string {
	al, bl := lines(a), lines(b)
	edits := diffLines(al, bl)
	hunks := group(edits, DiffContext)
	if len(hunks) == 0 {
		return ""
	}
	var out strings.Builder
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", fromName, toName)
	for _, h := range hunks {
		writeHunk(&out, h, al, bl)
	}
	return out.String()
}

func lines(s string) []string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// op is what an edit does to a line.
type op byte

const (
	opEqual  op = ' '
	opDelete op = '-'
	opInsert op = '+'
)

// edit is one line of the diff: a's line ai (equal, delete) or b's line bi
// (insert); equal edits carry both.
type edit struct {
	op     op
	ai, bi int
}

// diffLines answers the edits turning a into b, in order: a shortest edit
// script (Myers) between their common head and tail.
func diffLines(a, b []string) []edit {
	head := 0
	for head < len(a) && head < len(b) && a[head] == b[head] {
		head++
	}
	tail := 0
	for tail < len(a)-head && tail < len(b)-head && a[len(a)-1-tail] == b[len(b)-1-tail] {
		tail++
	}
	var out []edit
	for i := range head {
		out = append(out, edit{opEqual, i, i})
	}
	out = append(out, myers(a[head:len(a)-tail], b[head:len(b)-tail], head)...)
	for i := range tail {
		ai, bi := len(a)-tail+i, len(b)-tail+i
		out = append(out, edit{opEqual, ai, bi})
	}
	return out
}

// myers answers the edits of a shortest edit script from a to b, whose
// line indexes are offset by off in the whole documents; beyond
// maxEditDistance, every line of a is deleted and every line of b
// inserted.
func myers(a, b []string, off int) []edit {
	n, m := len(a), len(b)
	limit := min(n+m, maxEditDistance)
	// v[k+limit+1] is the furthest x reached on diagonal k; trace[d] keeps
	// v's window [-d, d] as it was before step d, to walk back.
	v := make([]int, 2*limit+3)
	at := func(k int) *int { return &v[k+limit+1] }
	var trace [][]int
	for d := 0; d <= limit; d++ {
		trace = append(trace, append([]int(nil), v[limit+1-d:limit+2+d]...))
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || (k != d && *at(k - 1) < *at(k + 1)) {
				x = *at(k + 1)
			} else {
				x = *at(k - 1) + 1
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x++
				y++
			}
			*at(k) = x
			if x >= n && y >= m {
				return backtrack(trace, n, m, off)
			}
		}
	}
	out := make([]edit, 0, n+m)
	for i := range n {
		out = append(out, edit{opDelete, off + i, 0})
	}
	for j := range m {
		out = append(out, edit{opInsert, 0, off + j})
	}
	return out
}

// backtrack walks trace back from (n, m) to (0, 0), answering the edits
// in order.
func backtrack(trace [][]int, n, m, off int) []edit {
	var rev []edit
	x, y := n, m
	for d := len(trace) - 1; d > 0; d-- {
		w := trace[d] // v's window [-d, d] before step d
		get := func(k int) int { return w[k+d] }
		k := x - y
		var prevK int
		if k == -d || (k != d && get(k-1) < get(k+1)) {
			prevK = k + 1
		} else {
			prevK = k - 1
		}
		prevX := get(prevK)
		prevY := prevX - prevK
		for x > prevX && y > prevY {
			x--
			y--
			rev = append(rev, edit{opEqual, off + x, off + y})
		}
		if x == prevX {
			y--
			rev = append(rev, edit{opInsert, 0, off + y})
		} else {
			x--
			rev = append(rev, edit{opDelete, off + x, 0})
		}
	}
	for x > 0 && y > 0 {
		x--
		y--
		rev = append(rev, edit{opEqual, off + x, off + y})
	}
	out := make([]edit, len(rev))
	for i, e := range rev {
		out[len(rev)-1-i] = e
	}
	return out
}

// group answers the hunks of edits: each change with up to ctx equal
// lines around it, changes closer than 2*ctx lines in one hunk.
func group(edits []edit, ctx int) [][]edit {
	var hunks [][]edit
	start, end := -1, -1 // the current hunk is edits[start:end]
	for i, e := range edits {
		if e.op == opEqual {
			continue
		}
		lo, hi := max(i-ctx, 0), min(i+ctx+1, len(edits))
		if start >= 0 && lo <= end {
			end = max(end, hi)
			continue
		}
		if start >= 0 {
			hunks = append(hunks, edits[start:end])
		}
		start, end = lo, hi
	}
	if start >= 0 {
		hunks = append(hunks, edits[start:end])
	}
	return hunks
}

// writeHunk writes h's "@@ -a,n +b,m @@" header (lines counted from 1, a
// count of 1 left out) and its lines. With context around every change,
// a side without lines in a hunk is an empty document: "0,0".
func writeHunk(out *strings.Builder, h []edit, a, b []string) {
	aStart, bStart, aLen, bLen := -1, -1, 0, 0
	for _, e := range h {
		if e.op != opInsert {
			aLen++
			if aStart < 0 {
				aStart = e.ai
			}
		}
		if e.op != opDelete {
			bLen++
			if bStart < 0 {
				bStart = e.bi
			}
		}
	}
	fmt.Fprintf(out, "@@ -%s +%s @@\n", span(aStart, aLen), span(bStart, bLen))
	for _, e := range h {
		switch e.op {
		case opEqual:
			out.WriteString(" " + a[e.ai] + "\n")
		case opDelete:
			out.WriteString("-" + a[e.ai] + "\n")
		case opInsert:
			out.WriteString("+" + b[e.bi] + "\n")
		}
	}
}

func span(start, n int) string {
	switch n {
	case 0:
		return "0,0"
	case 1:
		return fmt.Sprintf("%d", start+1)
	}
	return fmt.Sprintf("%d,%d", start+1, n)
}
