package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/podium-ml/podium/internal/version"
)

type versionOptions struct {
	IO   *IOStreams
	JSON bool
}

func newCmdVersion(f *Factory, runF func(*versionOptions) error) *cobra.Command {
	opts := &versionOptions{IO: f.IO}
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print podium's version, commit and build date",
		Long: heredoc(`
			Print the version podium was built as, the commit it was built from,
			the build date, and the Go version and platform: what a bug report
			needs, and what the metadata record names as the tool that made it.
			Builds from source without release flags say "dev" and take the
			commit from the Go build information when there is one.`) + "\n\n" + exitCodesHelp,
		Args: cobra.NoArgs,
		Example: heredoc(`
			$ podium version
			$ podium version --json`),
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runVersion(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON instead of text")
	return cmd
}

func runVersion(opts *versionOptions) error {
	info := version.Get()
	if opts.JSON {
		return writeJSON(opts.IO.Out, info)
	}
	_, err := fmt.Fprintln(opts.IO.Out, info.String())
	return err
}
