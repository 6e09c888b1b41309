package scm

import (
	"fmt"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/podium-ml/podium/internal/diag"
)

// InvalidChangeError is a ChangeRequest no host would accept: a branch
// name git refuses, a path outside the repository. It is invalid input
// (exit 2): it comes from the spec's deploy section.
type InvalidChangeError struct {
	Field string // Branch, Title, Files[i].Path, ...
	Value string
	Msg   string
}

func (e *InvalidChangeError) Error() string {
	return fmt.Sprintf("invalid change request: %s %q: %s", e.Field, e.Value, e.Msg)
}

// Is reports the error as invalid input for the CLI's exit code.
func (e *InvalidChangeError) Is(target error) bool { return target == diag.ErrInvalidInput }

// Validate checks what both hosts require of a change: a branch name git
// accepts (and not the base), a title, at least one file, and file paths
// that are relative, clean, distinct and inside the repository.
func (ch ChangeRequest) Validate() error {
	if msg := checkBranch(ch.Branch); msg != "" {
		return &InvalidChangeError{Field: "Branch", Value: ch.Branch, Msg: msg}
	}
	if ch.Base != "" {
		if msg := checkBranch(ch.Base); msg != "" {
			return &InvalidChangeError{Field: "Base", Value: ch.Base, Msg: msg}
		}
		if ch.Base == ch.Branch {
			return &InvalidChangeError{Field: "Branch", Value: ch.Branch, Msg: "is the base branch itself"}
		}
	}
	if strings.TrimSpace(ch.Title) == "" {
		return &InvalidChangeError{Field: "Title", Value: ch.Title, Msg: "is empty"}
	}
	if len(ch.Files) == 0 {
		return &InvalidChangeError{Field: "Files", Msg: "no files to commit"}
	}
	seen := map[string]bool{}
	for i, f := range ch.Files {
		field := fmt.Sprintf("Files[%d].Path", i)
		if msg := checkPath(f.Path); msg != "" {
			return &InvalidChangeError{Field: field, Value: f.Path, Msg: msg}
		}
		if seen[f.Path] {
			return &InvalidChangeError{Field: field, Value: f.Path, Msg: "appears twice"}
		}
		seen[f.Path] = true
	}
	return nil
}

func checkPath(p string) string {
	switch {
	case p == "":
		return "is empty"
	case !utf8.ValidString(p):
		return "is not valid UTF-8"
	case strings.ContainsRune(p, 0) || strings.Contains(p, `\`):
		return "holds a NUL byte or a backslash"
	case strings.HasPrefix(p, "/"):
		return "is absolute; paths are relative to the repository root"
	case path.Clean(p) != p:
		return "is not clean (use " + path.Clean(p) + ")"
	case p == ".." || strings.HasPrefix(p, "../"):
		return "leaves the repository"
	}
	for _, seg := range strings.Split(p, "/") {
		if strings.EqualFold(seg, ".git") {
			return "writes inside .git"
		}
	}
	return ""
}

// checkBranch applies git check-ref-format's rules to refs/heads/<name>.
func checkBranch(b string) string {
	switch {
	case b == "":
		return "is empty"
	case !utf8.ValidString(b):
		return "is not valid UTF-8"
	case strings.HasPrefix(b, "-"), strings.HasPrefix(b, "/"), strings.HasSuffix(b, "/"),
		strings.HasSuffix(b, "."), strings.HasSuffix(b, ".lock"),
		strings.Contains(b, ".."), strings.Contains(b, "//"), strings.Contains(b, "@{"), b == "@":
		return "is not a valid git branch name"
	}
	for _, r := range b {
		if unicode.IsControl(r) || unicode.IsSpace(r) || strings.ContainsRune("~^:?*[\\", r) {
			return fmt.Sprintf("is not a valid git branch name (it holds %q)", r)
		}
	}
	for _, seg := range strings.Split(b, "/") {
		if strings.HasPrefix(seg, ".") {
			return "is not a valid git branch name (a part starts with a dot)"
		}
	}
	return ""
}
