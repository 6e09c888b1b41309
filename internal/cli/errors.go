package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/podium-ml/podium/internal/diag"
)

// Exit codes: the contract scripts and workflows depend on.
const (
	ExitOK       = 0 // success
	ExitFailure  = 1 // runtime failure: I/O, API, a step that failed
	ExitInvalid  = 2 // invalid input or usage
	ExitRejected = 3 // the gate rejected the candidate and --fail-on-reject was given
	// ExitInterrupted is the shell's code for a command stopped by SIGINT
	// (128+2), used for Ctrl-C and SIGTERM alike.
	ExitInterrupted = 130
)

// exitCodesHelp is appended to every command's help.
const exitCodesHelp = `Exit codes:
  0  success
  1  runtime failure (I/O, API, a step that failed)
  2  invalid input or usage (the message names the file and field)
  3  the gate rejected the candidate and --fail-on-reject was given
  130  interrupted (Ctrl-C or SIGTERM)`

// FlagError is a usage mistake: an unknown flag, a missing argument, flags
// that exclude each other. Main prints it with a pointer to --help.
type FlagError struct {
	Err     error
	Command string // the command path, for the "--help" hint
}

func (e *FlagError) Error() string { return e.Err.Error() }
func (e *FlagError) Unwrap() error { return e.Err }

// flagErrorf returns a FlagError with a formatted message.
func flagErrorf(format string, args ...any) error {
	return &FlagError{Err: fmt.Errorf(format, args...)}
}

// InputError is invalid input the command found itself (a missing file, a
// run directory without run.json). Library packages give their own input
// errors an Is method that matches diag.ErrInvalidInput instead.
type InputError struct{ Err error }

func (e *InputError) Error() string        { return e.Err.Error() }
func (e *InputError) Unwrap() error        { return e.Err }
func (e *InputError) Is(target error) bool { return target == diag.ErrInvalidInput }

// inputErrorf returns an InputError with a formatted message (%w allowed).
func inputErrorf(format string, args ...any) error {
	return &InputError{Err: fmt.Errorf(format, args...)}
}

// RejectedError reports that the gate said reject and the caller asked for
// a failing exit (--fail-on-reject). Its message is already printed.
type RejectedError struct{ Model string }

func (e *RejectedError) Error() string {
	return fmt.Sprintf("the gate rejected the candidate for %s", e.Model)
}

// SilentError fails with exit 1 after the command has printed why.
var SilentError = errors.New("SilentError")

// ExitError ends the command with Code after it has printed why (for
// example `validate --json`, which reports the problems in its document and
// still exits 2).
type ExitError struct{ Code int }

func (e *ExitError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// exitCode maps an error to the contract's exit code.
func exitCode(err error) int {
	var flagErr *FlagError
	var rejected *RejectedError
	var exitErr *ExitError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &exitErr):
		return exitErr.Code
	case errors.As(err, &rejected):
		return ExitRejected
	case errors.Is(err, context.Canceled):
		return ExitInterrupted
	case errors.As(err, &flagErr), errors.Is(err, diag.ErrInvalidInput):
		return ExitInvalid
	default:
		return ExitFailure
	}
}
