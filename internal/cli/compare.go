package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// Placeholder until the compare command lands.
type compareOptions struct{}

func newCmdCompare(f *Factory, runF func(*compareOptions) error) *cobra.Command {
	return &cobra.Command{
		Use:    "compare",
		Short:  "Not implemented yet",
		Hidden: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return errors.New("compare: not implemented yet")
		},
	}
}
