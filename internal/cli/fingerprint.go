package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// Placeholder until the fingerprint command lands.
type fingerprintOptions struct{}

func newCmdFingerprint(f *Factory, runF func(*fingerprintOptions) error) *cobra.Command {
	return &cobra.Command{
		Use:    "fingerprint",
		Short:  "Not implemented yet",
		Hidden: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return errors.New("fingerprint: not implemented yet")
		},
	}
}
