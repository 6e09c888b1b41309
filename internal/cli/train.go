package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// Placeholder until the train command lands.
type trainOptions struct{}

func newCmdTrain(f *Factory, runF func(*trainOptions) error) *cobra.Command {
	return &cobra.Command{
		Use:    "train",
		Short:  "Not implemented yet",
		Hidden: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return errors.New("train: not implemented yet")
		},
	}
}
