package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// Placeholder until the log command lands.
type logOptions struct{}

func newCmdLog(f *Factory, runF func(*logOptions) error) *cobra.Command {
	return &cobra.Command{
		Use:    "log",
		Short:  "Not implemented yet",
		Hidden: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return errors.New("log: not implemented yet")
		},
	}
}
