package strictjson

import (
	"strings"
	"testing"
)

func TestShorten(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 300)
	tests := []struct {
		name, got, want string
	}{
		{"short value kept", Short("accuracy"), "accuracy"},
		{"value cut at 64 bytes", Short(long), strings.Repeat("a", 64) + "… (300 bytes)"},
		{"value cut at a character boundary", Short(strings.Repeat("a", 63) + "é" + long), strings.Repeat("a", 63) + "… (365 bytes)"},
		{"name kept to 256 bytes", ShortName(long[:256]), long[:256]},
		{"name cut once at 256 bytes", ShortName(long), strings.Repeat("a", 256) + "… (300 bytes)"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}
