package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// Placeholder until the record command lands.
type recordOptions struct{}

func newCmdRecord(f *Factory, runF func(*recordOptions) error) *cobra.Command {
	return &cobra.Command{
		Use:    "record",
		Short:  "Not implemented yet",
		Hidden: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return errors.New("record: not implemented yet")
		},
	}
}
