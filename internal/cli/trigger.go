package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// Placeholder until the trigger command lands.
type triggerOptions struct{}

func newCmdTrigger(f *Factory, runF func(*triggerOptions) error) *cobra.Command {
	return &cobra.Command{
		Use:    "trigger",
		Short:  "Not implemented yet",
		Hidden: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return errors.New("trigger: not implemented yet")
		},
	}
}
