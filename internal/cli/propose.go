package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// Placeholder until the propose command lands.
type proposeOptions struct{}

func newCmdPropose(f *Factory, runF func(*proposeOptions) error) *cobra.Command {
	return &cobra.Command{
		Use:    "propose",
		Short:  "Not implemented yet",
		Hidden: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return errors.New("propose: not implemented yet")
		},
	}
}
