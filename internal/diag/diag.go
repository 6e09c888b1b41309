// Package diag carries problems found in a user's file with their position,
// printed the way actionlint and compilers print them:
//
//	podium.yaml:14:9: pipeline[1].needs[0]: unknown step "trian" (did you mean "train"?) [spec]
//
// Every Error is invalid input: the CLI maps it to exit code 2.
package diag

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// ErrInvalidInput is what every error about the user's input matches with
// errors.Is: a spec, a data file, a path or a flag value that is wrong, as
// opposed to a failing disk or API. The CLI maps it to exit code 2.
//
// An error type reports it with an Is method, so its message stays its own
// (as fingerprint.NotFoundError also matches fs.ErrNotExist).
var ErrInvalidInput = errors.New("invalid input")

// Error is one problem in one file. Line and Col are 1-based; zero means
// unknown (the position is then left out). Field is the path of the value
// inside the document (pipeline[1].needs[0]), when there is one.
type Error struct {
	File  string
	Line  int
	Col   int
	Field string
	Msg   string
	Kind  string // short category shown in brackets, e.g. "syntax", "schema", "spec"
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
			if e.Col > 0 {
				fmt.Fprintf(&b, ":%d", e.Col)
			}
		}
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if e.Kind != "" {
		fmt.Fprintf(&b, " [%s]", e.Kind)
	}
	return b.String()
}

// Is reports the error as invalid input (exit 2).
func (e *Error) Is(target error) bool { return target == ErrInvalidInput }

// List is every problem found in a file, reported at once.
type List []*Error

func (l List) Error() string {
	msgs := make([]string, len(l))
	for i, e := range l {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Is reports the list as invalid input (exit 2).
func (l List) Is(target error) bool { return target == ErrInvalidInput }

// Unwrap lets errors.As find each Error of the list.
func (l List) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}

// Sort orders the list by position, so output is stable whatever order the
// checks ran in.
func (l List) Sort() {
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i], l[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
}

// Err returns nil for an empty list, so `return l.Err()` is safe.
func (l List) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// All returns every positioned Error inside err (a List, a single Error, or
// either wrapped or joined), for annotating each one in CI.
func All(err error) []*Error {
	var out []*Error
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		switch e := err.(type) {
		case *Error:
			out = append(out, e)
			return
		case List:
			out = append(out, e...)
			return
		case interface{ Unwrap() []error }:
			for _, inner := range e.Unwrap() {
				walk(inner)
			}
			return
		}
		walk(errors.Unwrap(err))
	}
	walk(err)
	return out
}
