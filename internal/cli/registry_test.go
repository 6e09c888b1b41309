package cli

import "testing"

func TestHumanNumbers(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"accuracy 0.9298245614035088 ≥ 0.8", "accuracy 0.929825 ≥ 0.8"},
		{"log_loss 0.52 ≤ champion 0.5 + 0.02", "log_loss 0.52 ≤ champion 0.5 + 0.02"},
		{"latency -12.000000001 > 1", "latency -12 > 1"},
		{"rows 1234567 ≥ 10", "rows 1234567 ≥ 10"},
	}
	for _, tt := range tests {
		if got := humanNumbers(tt.in); got != tt.want {
			t.Errorf("humanNumbers(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
