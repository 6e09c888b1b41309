package deploy

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestUnifiedDiff(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		a, b []byte
		want string
	}{
		{name: "equal", a: []byte("x\n"), b: []byte("x\n"), want: ""},
		{
			name: "one line changed in the middle",
			a:    []byte("1\n2\n3\n4\n5\n6\n7\n8\n9\n"),
			b:    []byte("1\n2\n3\n4\nfive\n6\n7\n8\n9\n"),
			want: "--- a/f.yaml\n+++ b/f.yaml\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n",
		},
		{
			name: "two changes far apart make two hunks",
			a:    []byte("a\n1\n2\n3\n4\n5\n6\n7\n8\nb\n"),
			b:    []byte("A\n1\n2\n3\n4\n5\n6\n7\n8\nB\n"),
			want: "--- a/f.yaml\n+++ b/f.yaml\n@@ -1,4 +1,4 @@\n-a\n+A\n 1\n 2\n 3\n@@ -7,4 +7,4 @@\n 6\n 7\n 8\n-b\n+B\n",
		},
		{
			name: "two changes close together make one hunk",
			a:    []byte("a\n1\n2\nb\n"),
			b:    []byte("A\n1\n2\nB\n"),
			want: "--- a/f.yaml\n+++ b/f.yaml\n@@ -1,4 +1,4 @@\n-a\n+A\n 1\n 2\n-b\n+B\n",
		},
		{
			name: "new file",
			a:    nil,
			b:    []byte("{\n  \"model\": \"iris\"\n}\n"),
			want: "--- /dev/null\n+++ b/f.yaml\n@@ -0,0 +1,3 @@\n+{\n+  \"model\": \"iris\"\n+}\n",
		},
		{
			name: "no newline at end",
			a:    []byte("a: 1"),
			b:    []byte("a: 2"),
			want: "--- a/f.yaml\n+++ b/f.yaml\n@@ -1 +1 @@\n-a: 1\n\\ No newline at end of file\n+a: 2\n\\ No newline at end of file\n",
		},
		{
			name: "insertion",
			a:    []byte("a\nc\n"),
			b:    []byte("a\nb\nc\n"),
			want: "--- a/f.yaml\n+++ b/f.yaml\n@@ -1,2 +1,3 @@\n a\n+b\n c\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := UnifiedDiff("f.yaml", tt.a, tt.b)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("UnifiedDiff mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
