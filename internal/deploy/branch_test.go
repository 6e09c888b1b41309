package deploy

import (
	"testing"
)

func TestValidateBranch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		branch  string
		wantErr string
	}{
		{name: "default template output", branch: "podium/deploy/iris-classifier"},
		{name: "dots, underscores, plus, at", branch: "deploy/v1.2_rc+1@eu"},
		{name: "command substitution", branch: "podium/deploy/$(id)", wantErr: `deploy.branch: invalid branch name "podium/deploy/$(id)": contains '$' at offset 14; only ASCII letters, digits and . _ - / + = @ , are allowed`},
		{name: "backticks", branch: "a`id`", wantErr: "deploy.branch: invalid branch name \"a`id`\": contains '`' at offset 1; only ASCII letters, digits and . _ - / + = @ , are allowed"},
		{name: "double dot", branch: "podium/../main", wantErr: `deploy.branch: invalid branch name "podium/../main": contains ".."`},
		{name: "space", branch: "podium/deploy/my model", wantErr: `deploy.branch: invalid branch name "podium/deploy/my model": contains ' ' at offset 16; only ASCII letters, digits and . _ - / + = @ , are allowed`},
		{name: "newline", branch: "a\nb", wantErr: `deploy.branch: invalid branch name "a\nb": contains byte 0x0a at offset 1; only ASCII letters, digits and . _ - / + = @ , are allowed`},
		{name: "non-ASCII", branch: "déploy", wantErr: `deploy.branch: invalid branch name "déploy": contains byte 0xc3 at offset 1; only ASCII letters, digits and . _ - / + = @ , are allowed`},
		{name: "empty", branch: "", wantErr: `deploy.branch: invalid branch name "": empty`},
		{name: "leading dash", branch: "-f", wantErr: `deploy.branch: invalid branch name "-f": starts with '-'`},
		{name: "leading slash", branch: "/a", wantErr: `deploy.branch: invalid branch name "/a": starts or ends with '/'`},
		{name: "trailing slash", branch: "a/", wantErr: `deploy.branch: invalid branch name "a/": starts or ends with '/'`},
		{name: "double slash", branch: "a//b", wantErr: `deploy.branch: invalid branch name "a//b": has consecutive slashes`},
		{name: "trailing dot", branch: "a.", wantErr: `deploy.branch: invalid branch name "a.": ends with '.'`},
		{name: "component starts with dot", branch: "a/.b", wantErr: `deploy.branch: invalid branch name "a/.b": a component starts with '.'`},
		{name: "lock suffix", branch: "a.lock/b", wantErr: `deploy.branch: invalid branch name "a.lock/b": a component ends with ".lock"`},
		{name: "reflog syntax", branch: "a@{1}", wantErr: `deploy.branch: invalid branch name "a@{1}": contains "@{"`},
		{name: "at alone", branch: "@", wantErr: `deploy.branch: invalid branch name "@": "@" is not a branch name`},
		{name: "HEAD", branch: "HEAD", wantErr: `deploy.branch: invalid branch name "HEAD": "HEAD" is not a branch name`},
		{name: "full ref", branch: "refs/heads/x", wantErr: `deploy.branch: invalid branch name "refs/heads/x": starts with "refs/": give the branch name alone`},
		{name: "git glob characters", branch: "a*b", wantErr: `deploy.branch: invalid branch name "a*b": contains '*' at offset 1; only ASCII letters, digits and . _ - / + = @ , are allowed`},
		{name: "colon", branch: "a:b", wantErr: `deploy.branch: invalid branch name "a:b": contains ':' at offset 1; only ASCII letters, digits and . _ - / + = @ , are allowed`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := ValidateBranch(tt.branch)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ValidateBranch(%q) = %v, want nil", tt.branch, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("ValidateBranch(%q) = nil, want an error", tt.branch)
			}
			if err.Error() != tt.wantErr {
				t.Errorf("error:\n got %s\nwant %s", err, tt.wantErr)
			}
		})
	}
}

// FuzzValidateBranch checks that every name ValidateBranch accepts is also
// one git's rules accept and holds nothing a shell would interpret.
func FuzzValidateBranch(f *testing.F) {
	for _, s := range []string{"podium/deploy/iris", "$(id)", "a..b", "a/.b", "a.lock", "-x", "a@{1}", "x y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if ValidateBranch(name) != nil {
			return
		}
		for i := 0; i < len(name); i++ {
			if c := name[i]; c <= ' ' || c >= 0x7f || stringsContainsByte("$`'\"\\;&|<>(){}[]*?~^:!#%", c) {
				t.Fatalf("accepted %q with %q", name, c)
			}
		}
	})
}

func stringsContainsByte(s string, c byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return true
		}
	}
	return false
}
