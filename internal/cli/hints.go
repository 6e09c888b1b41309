package cli

import (
	"errors"

	"github.com/podium-ml/podium/internal/record"
	"github.com/podium-ml/podium/internal/rundir"
)

// recordHint adds to an error of the record package what to run about it:
// the library says what is wrong, the commands and flags that fix it are
// the CLI's to name.
func recordHint(err error) error {
	var incomplete *rundir.IncompleteError
	var missing *record.MissingError
	var changed *record.ChangedError
	switch {
	case errors.As(err, &incomplete):
		if incomplete.Hint == "" {
			incomplete.Hint = "podium train --run-dir " + incomplete.Dir
		}
	case errors.As(err, &missing):
		if missing.Hint == "" && !missing.Empty {
			missing.Hint = "record in the job that ran `podium train`, or restore it first"
		}
	case errors.As(err, &changed):
		if changed.Hint == "" {
			changed.Hint = "it changed after `podium train` (train again, or restore it)"
		}
	}
	return err
}
