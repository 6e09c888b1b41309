package deploy

import (
	"fmt"
	"strings"

	"github.com/podium-ml/podium/internal/diag"
)

// maxBranch caps a branch name; hosts reject refs much past this.
const maxBranch = 200

// BranchError is a rendered branch name podium refuses. It is invalid
// input (exit 2).
type BranchError struct {
	Branch string
	Reason string
}

func (e *BranchError) Error() string {
	return fmt.Sprintf("deploy.branch: invalid branch name %q: %s", e.Branch, e.Reason)
}

// Is reports the error as the user's input being wrong (exit 2).
func (e *BranchError) Is(target error) bool { return target == diag.ErrInvalidInput }

// ValidateBranch checks a rendered branch name. It applies the rules of
// `git check-ref-format --branch` (without running git), and is stricter:
// only ASCII letters, digits and . _ - / + = @ , are allowed, so that a model
// name such as `$(id)` or one with quotes, spaces or control characters
// never becomes a ref that a careless script downstream could execute.
func ValidateBranch(name string) error {
	fail := func(format string, args ...any) error {
		return &BranchError{Branch: name, Reason: fmt.Sprintf(format, args...)}
	}
	switch {
	case name == "":
		return fail("empty")
	case len(name) > maxBranch:
		return fail("longer than %d bytes", maxBranch)
	case name == "@":
		return fail(`"@" is not a branch name`)
	case name == "HEAD":
		return fail(`"HEAD" is not a branch name`)
	case strings.HasPrefix(name, "-"):
		return fail("starts with '-'")
	case strings.HasPrefix(name, "/"), strings.HasSuffix(name, "/"):
		return fail("starts or ends with '/'")
	case strings.HasSuffix(name, "."):
		return fail("ends with '.'")
	case strings.Contains(name, "//"):
		return fail("has consecutive slashes")
	case strings.Contains(name, ".."):
		return fail(`contains ".."`)
	case strings.Contains(name, "@{"):
		return fail(`contains "@{"`)
	case strings.HasPrefix(name, "refs/"):
		return fail(`starts with "refs/": give the branch name alone`)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !branchChar(c) {
			if c < 0x20 || c >= 0x7f {
				return fail("contains byte 0x%02x at offset %d; only ASCII letters, digits and . _ - / + = @ , are allowed", c, i)
			}
			return fail("contains %q at offset %d; only ASCII letters, digits and . _ - / + = @ , are allowed", c, i)
		}
	}
	for _, comp := range strings.Split(name, "/") {
		if strings.HasPrefix(comp, ".") {
			return fail("a component starts with '.'")
		}
		if strings.HasSuffix(comp, ".lock") {
			return fail(`a component ends with ".lock"`)
		}
	}
	return nil
}

func branchChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("._-/+=@,", c) >= 0
}
