package scm_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/podium-ml/podium/internal/diag"
	"github.com/podium-ml/podium/internal/scm"
)

func validChange() scm.ChangeRequest {
	return scm.ChangeRequest{
		Branch: "podium/deploy/iris", Title: "Deploy iris",
		Files: []scm.File{{Path: "deploy/production/inference.yaml", Content: []byte("x")}},
	}
}

func TestChangeRequestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		edit func(*scm.ChangeRequest)
		want string
	}{
		{name: "valid", edit: func(*scm.ChangeRequest) {}},
		{name: "valid with a base", edit: func(c *scm.ChangeRequest) { c.Base = "release/1" }},
		{name: "empty branch", edit: func(c *scm.ChangeRequest) { c.Branch = "" }, want: `invalid change request: Branch "": is empty`},
		{name: "branch with ..", edit: func(c *scm.ChangeRequest) { c.Branch = "a..b" }, want: `invalid change request: Branch "a..b": is not a valid git branch name`},
		{name: "branch with a colon", edit: func(c *scm.ChangeRequest) { c.Branch = "a:b" }, want: `invalid change request: Branch "a:b": is not a valid git branch name (it holds ':')`},
		{name: "branch with a dot part", edit: func(c *scm.ChangeRequest) { c.Branch = "a/.b" }, want: `invalid change request: Branch "a/.b": is not a valid git branch name (a part starts with a dot)`},
		{name: "branch ending .lock", edit: func(c *scm.ChangeRequest) { c.Branch = "a.lock" }, want: `invalid change request: Branch "a.lock": is not a valid git branch name`},
		{name: "branch is the base", edit: func(c *scm.ChangeRequest) { c.Base = c.Branch }, want: `invalid change request: Branch "podium/deploy/iris": is the base branch itself`},
		{name: "no files", edit: func(c *scm.ChangeRequest) { c.Files = nil }, want: `invalid change request: Files "": no files to commit`},
		{name: "absolute path", edit: func(c *scm.ChangeRequest) { c.Files[0].Path = "/etc/passwd" }, want: `invalid change request: Files[0].Path "/etc/passwd": is absolute; paths are relative to the repository root`},
		{name: "unclean path", edit: func(c *scm.ChangeRequest) { c.Files[0].Path = "a/../b" }, want: `invalid change request: Files[0].Path "a/../b": is not clean (use b)`},
		{name: "escaping path", edit: func(c *scm.ChangeRequest) { c.Files[0].Path = "../b" }, want: `invalid change request: Files[0].Path "../b": leaves the repository`},
		{name: "into .git", edit: func(c *scm.ChangeRequest) { c.Files[0].Path = ".GIT/config" }, want: `invalid change request: Files[0].Path ".GIT/config": writes inside .git`},
		{name: "backslash", edit: func(c *scm.ChangeRequest) { c.Files[0].Path = `C:\x` }, want: `invalid change request: Files[0].Path "C:\\x": holds a NUL byte or a backslash`},
		{name: "twice", edit: func(c *scm.ChangeRequest) { c.Files = append(c.Files, c.Files[0]) }, want: `invalid change request: Files[1].Path "deploy/production/inference.yaml": appears twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ch := validChange()
			tt.edit(&ch)
			err := ch.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error = %v, want %s", err, tt.want)
			}
			var inv *scm.InvalidChangeError
			if !errors.As(err, &inv) || !errors.Is(err, diag.ErrInvalidInput) {
				t.Error("not an invalid-input error")
			}
		})
	}
}

// FuzzChangeRequestValidate: whatever passes stays inside the repository
// and is a branch name without the characters git refuses.
func FuzzChangeRequestValidate(f *testing.F) {
	for _, seed := range [][2]string{
		{"podium/deploy/iris", "deploy/x.yaml"}, {"a..b", "../x"}, {"-x", "/abs"}, {"a b", "a\x00b"},
		{"a/.b", ".git/config"}, {"ok", "a/./b"}, {"@{x}", "C:\\x"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, branch, path string) {
		ch := scm.ChangeRequest{Branch: branch, Title: "t", Files: []scm.File{{Path: path}}}
		if ch.Validate() != nil {
			return
		}
		if !filepath.IsLocal(filepath.FromSlash(path)) || strings.Contains(path, `\`) {
			t.Errorf("accepted path %q is not local", path)
		}
		if strings.ContainsAny(branch, " ~^:?*[\\\x00") || strings.Contains(branch, "..") || strings.HasPrefix(branch, "-") {
			t.Errorf("accepted branch %q", branch)
		}
	})
}
