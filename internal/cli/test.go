package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// Placeholder until the test command lands.
type testOptions struct{}

func newCmdTest(f *Factory, runF func(*testOptions) error) *cobra.Command {
	return &cobra.Command{
		Use:    "test",
		Short:  "Not implemented yet",
		Hidden: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return errors.New("test: not implemented yet")
		},
	}
}
