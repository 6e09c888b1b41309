package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// Placeholder until the validate command lands.
type validateOptions struct{}

func newCmdValidate(f *Factory, runF func(*validateOptions) error) *cobra.Command {
	return &cobra.Command{
		Use:    "validate",
		Short:  "Not implemented yet",
		Hidden: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return errors.New("validate: not implemented yet")
		},
	}
}
