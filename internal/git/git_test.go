package git

import (
	"errors"
	"testing"
)

func TestErrorIsOneLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		stderr, want string
	}{
		{"fatal: 'nowhere' does not appear to be a git repository\nfatal: Could not read from remote repository.\n\nPlease make sure you have the correct access rights\n",
			"git push nowhere: fatal: 'nowhere' does not appear to be a git repository; fatal: Could not read from remote repository.; Please make sure you have the correct access rights"},
		{"", "git push nowhere: exit status 128"},
	}
	for _, tt := range tests {
		err := &Error{Args: []string{"push", "nowhere"}, Stderr: tt.stderr, Err: errors.New("exit status 128")}
		if got := err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}
