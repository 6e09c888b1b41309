package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// Placeholder until the report command lands.
type reportOptions struct{}

func newCmdReport(f *Factory, runF func(*reportOptions) error) *cobra.Command {
	return &cobra.Command{
		Use:    "report",
		Short:  "Not implemented yet",
		Hidden: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return errors.New("report: not implemented yet")
		},
	}
}
