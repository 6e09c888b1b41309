package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// Placeholder until the drift command lands.
type driftOptions struct{}

func newCmdDrift(f *Factory, runF func(*driftOptions) error) *cobra.Command {
	return &cobra.Command{
		Use:    "drift",
		Short:  "Not implemented yet",
		Hidden: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return errors.New("drift: not implemented yet")
		},
	}
}
