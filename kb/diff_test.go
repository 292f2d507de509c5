package kb

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestUnifiedDiffOfAnEditedArticle(t *testing.T) {
	a := Document("Account locked", "Wait 15 minutes.\nThen try again.\nOr reset your password.\n")
	b := Document("Account locked after failed logins", "Wait 15 minutes.\nThen try again.\nOr reset your password.\nStill locked? Contact us.\n")
	assert.Equal(t, "--- KB-1 v1\n+++ KB-1 v2\n"+
		"@@ -1,5 +1,6 @@\n"+
		"-Account locked\n"+
		"+Account locked after failed logins\n"+
		" \n"+
		" Wait 15 minutes.\n"+
		" Then try again.\n"+
		" Or reset your password.\n"+
		"+Still locked? Contact us.\n", Unified("KB-1 v1", "KB-1 v2", a, b))
}

func TestUnifiedDiffOfEqualTextsIsEmpty(t *testing.T) {
	assert.Empty(t, Unified("a", "b", "same\ntext", "same\r\ntext\n"))
}

func TestUnifiedDiffSplitsDistantChangesIntoHunks(t *testing.T) {
	var a, b []string
	for i := 1; i <= 20; i++ {
		a = append(a, fmt.Sprint("line ", i))
		switch i {
		case 2:
			b = append(b, "line two")
		case 18:
		default:
			b = append(b, fmt.Sprint("line ", i))
		}
	}
	got := Unified("a", "b", strings.Join(a, "\n"), strings.Join(b, "\n"))
	assert.Equal(t, []string{"@@ -1,5 +1,5 @@", "@@ -15,6 +15,5 @@"}, regexp.MustCompile(`(?m)^@@.*@@$`).FindAllString(got, -1))
}

func TestUnifiedDiffFromAndToAnEmptyDocument(t *testing.T) {
	assert.Equal(t, "--- a\n+++ b\n@@ -0,0 +1,2 @@\n+x\n+y\n", Unified("a", "b", "", "x\ny"))
	assert.Equal(t, "--- a\n+++ b\n@@ -1 +0,0 @@\n-x\n", Unified("a", "b", "x", ""))
}

// TestUnifiedDiffAppliesBackToTheNewText applies random diffs with a small
// patcher: whatever the edits, the hunks turn the old text into the new.
func TestUnifiedDiffAppliesBackToTheNewText(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	words := []string{"a", "b", "c", "d", "e"}
	random := func() []string {
		out := make([]string, rng.IntN(30))
		for i := range out {
			out[i] = words[rng.IntN(len(words))]
		}
		return out
	}
	for range 500 {
		a, b := random(), random()
		d := Unified("a", "b", strings.Join(a, "\n"), strings.Join(b, "\n"))
		assert.Equal(t, b, patch(t, a, d), "a=%v b=%v\n%s", a, b, d)
	}
}

func TestUnifiedDiffBeyondTheEditBoundReplacesTheMiddle(t *testing.T) {
	var a, b []string
	for i := range maxEditDistance {
		a = append(a, fmt.Sprint("old ", i))
		b = append(b, fmt.Sprint("new ", i))
	}
	a, b = append([]string{"head"}, append(a, "tail")...), append([]string{"head"}, append(b, "tail")...)
	d := Unified("a", "b", strings.Join(a, "\n"), strings.Join(b, "\n"))
	assert.Equal(t, b, patch(t, a, d))
	assert.Contains(t, d, fmt.Sprintf("@@ -1,%d +1,%d @@\n head\n-old 0\n", maxEditDistance+2, maxEditDistance+2))
}

var hunkHeader = regexp.MustCompile(`^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@$`)

// patch applies unified diff d to a, checking every context and deleted
// line and every hunk's counts.
func patch(t *testing.T, a []string, d string) []string {
	t.Helper()
	if d == "" {
		return a
	}
	lines := strings.Split(strings.TrimSuffix(d, "\n"), "\n")
	require.GreaterOrEqual(t, len(lines), 3)
	out := []string{}
	next := 0 // the next line of a to copy
	for i := 2; i < len(lines); {
		m := hunkHeader.FindStringSubmatch(lines[i])
		require.NotNil(t, m, lines[i])
		count := func(s string) int {
			if s == "" {
				return 1
			}
			n, _ := strconv.Atoi(s)
			return n
		}
		aStart, aLen, bLen := count(m[1]), count(m[2]), count(m[4])
		if aLen > 0 {
			aStart--
		}
		require.GreaterOrEqual(t, aStart, next)
		out = append(out, a[next:aStart]...)
		next = aStart
		var gotA, gotB int
		for i++; i < len(lines) && !strings.HasPrefix(lines[i], "@@"); i++ {
			l := lines[i]
			switch l[0] {
			case ' ':
				require.Equal(t, a[next], l[1:])
				out = append(out, l[1:])
				next++
				gotA++
				gotB++
			case '-':
				require.Equal(t, a[next], l[1:])
				next++
				gotA++
			case '+':
				out = append(out, l[1:])
				gotB++
			}
		}
		require.Equal(t, aLen, gotA)
		require.Equal(t, bLen, gotB)
	}
	return append(out, a[next:]...)
}
