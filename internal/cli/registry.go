package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// Placeholder until the registry command lands.
func newCmdRegistry(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:    "registry",
		Short:  "Not implemented yet",
		Hidden: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return errors.New("registry: not implemented yet")
		},
	}
}
