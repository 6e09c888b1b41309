package glob

import (
	"testing"
)

func TestMatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"acc_by_region.*", "acc_by_region.eu", true},
		{"acc_by_region.*", "acc_by_region.eu/west", true}, // path.Match stopped at '/'
		{"acc_by_region.*", "acc_by_region.eu.f1", false},  // '*' is one level
		{"acc_by_region.**", "acc_by_region.eu.f1", true},
		{"acc_by_region.**", "acc_by_region.", true},
		{"**", "a.b/c.d", true},
		{"*.p95", "latency_ms.p95", true},
		{"*.p95", "a.latency_ms.p95", false},
		{"**.p95", "a.latency_ms.p95", true},
		{"x.?", "x.0", true},
		{"x.?", "x.10", false},
		{"x.?", "x..", false},
		{`a\*`, "a*", true},
		{`a\*`, "ab", false},
		{`a\?b`, "a?b", true},
		{"a[0]", "a[0]", true}, // brackets are literal
		{"a[0]", "a0", false},
		{"accuracy", "accuracy", true},
		{"accuracy", "Accuracy", false},
		{"a.*.c", "a.b/x.c", true},
		{"a.*.c", "a.b.x.c", false},
		{"a*b", "a\nb", true}, // names are any characters but '.'
		{`bad\`, "bad", false},
	}
	for _, tt := range tests {
		if got := Match(tt.pattern, tt.name); got != tt.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tt.pattern, tt.name, got, tt.want)
		}
	}
}

func TestCompile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern string
		glob    bool
		name    string
		err     bool
	}{
		{pattern: "accuracy", name: "accuracy"},
		{pattern: `a\*b`, name: "a*b"},
		{pattern: "a.*", glob: true},
		{pattern: "a?", glob: true},
		{pattern: "", err: true},
		{pattern: `a\`, err: true},
	}
	for _, tt := range tests {
		p, err := Compile(tt.pattern)
		if (err != nil) != tt.err {
			t.Fatalf("Compile(%q) error = %v, want error %v", tt.pattern, err, tt.err)
		}
		if err != nil {
			continue
		}
		if p.IsGlob() != tt.glob || p.Name() != tt.name || p.String() != tt.pattern {
			t.Errorf("Compile(%q) = glob %v name %q, want glob %v name %q", tt.pattern, p.IsGlob(), p.Name(), tt.glob, tt.name)
		}
	}
}

func FuzzMatch(f *testing.F) {
	f.Add("acc.*", "acc.eu/west")
	f.Add("**.p95", "a.b.p95")
	f.Add(`a\*?`, "a*x")
	f.Fuzz(func(t *testing.T, pattern, name string) {
		p, err := Compile(pattern)
		if err != nil {
			return
		}
		got := p.Match(name)
		// A plain pattern matches exactly its name.
		if !p.IsGlob() && got != (name == p.Name()) {
			t.Fatalf("plain %q vs %q: %v", pattern, name, got)
		}
		// '*' never crosses a '.' that '**' would: replacing every single
		// star by a double star only widens the match.
		if got && !Match(widen(pattern), name) {
			t.Fatalf("%q matches %q but %q does not", pattern, name, widen(pattern))
		}
	})
}

// widen doubles every unescaped '*'.
func widen(p string) string {
	var b []byte
	for i := 0; i < len(p); i++ {
		b = append(b, p[i])
		switch p[i] {
		case '\\':
			if i+1 < len(p) {
				i++
				b = append(b, p[i])
			}
		case '*':
			b = append(b, '*')
		}
	}
	return string(b)
}
