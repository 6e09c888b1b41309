package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/podium-ml/podium/internal/ci"
	"github.com/podium-ml/podium/internal/fingerprint"
)

// progressThreshold is the tree size from which fingerprint shows progress
// on a terminal: below it, hashing takes about a second at most.
const progressThreshold = 1 << 30

type fingerprintOptions struct {
	IO       *IOStreams
	Platform func() ci.Platform

	Paths []string
	Jobs  int
	JSON  bool

	NoStatCache bool
}

func newCmdFingerprint(f *Factory, runF func(*fingerprintOptions) error) *cobra.Command {
	opts := &fingerprintOptions{IO: f.IO, Platform: f.Platform}
	cmd := &cobra.Command{
		Use:   "fingerprint <path>...",
		Short: "Print the content digests of files and directories",
		Long: heredoc(`
			Print the digest podium records for each path: what the step cache
			keys on, what run.json and the metadata record name inputs and
			outputs by.

			A file's digest is sha256:<hex of its bytes>. A directory's is the
			sha256 of the listing sha256sum prints for its files, sorted by
			relative path in byte order, so anyone can check it without podium:

			  cd DIR && find -L . -type f -print0 | LC_ALL=C sort -z |
			    sed -z 's|^\./||' | xargs -0 sha256sum | sha256sum

			Symbolic links are followed while they stay inside the boundary (the
			git work tree holding the path, or the path itself outside a
			repository); a link that escapes it, dangles or loops is an error
			naming the link. Files are hashed in parallel (--jobs); a tree over
			1 GiB shows its progress when stderr is a terminal.

			The output is "<digest>  <path>" per path, or with --json one array of
			{"path","digest","files","bytes"}. With one path the `+"`digest`"+` CI
			output is set; `+"`digests`"+` always holds the JSON array.`) + "\n\n" + statCacheHelp + "\n\n" + exitCodesHelp,
		Example: heredoc(`
			$ podium fingerprint model/
			$ podium fingerprint data/train.csv data/test.csv --json`),
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, p := range args {
				if p == "" || strings.ContainsRune(p, 0) {
					return flagErrorf("invalid path %q: empty or contains a NUL byte", p)
				}
			}
			if opts.Jobs < 0 {
				return flagErrorf("invalid --jobs %d: use a positive number, or 0 for one per CPU", opts.Jobs)
			}
			opts.Paths = args
			if runF != nil {
				return runF(opts)
			}
			return runFingerprint(cmd.Context(), opts)
		},
	}
	cmd.Flags().IntVar(&opts.Jobs, "jobs", 0, "hash up to `n` files at once (default: one per CPU)")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print one JSON array of {path, digest, files, bytes}")
	addNoStatCacheFlag(cmd, &opts.NoStatCache)
	return cmd
}

func runFingerprint(ctx context.Context, opts *fingerprintOptions) error {
	results := make([]*fingerprint.Result, 0, len(opts.Paths))
	cache := userStatCache(opts.NoStatCache)
	defer saveStatCache(cache, opts.IO.ErrOut)
	for _, p := range opts.Paths {
		fo := &fingerprint.Options{Workers: opts.Jobs, StatCache: cache}
		var progress *progressLine
		if opts.IO.ErrTTY {
			progress = &progressLine{io: opts.IO, path: p}
			fo.Progress = progress.update
		}
		res, err := fingerprint.Compute(ctx, p, fo)
		progress.finish()
		if err != nil {
			return err
		}
		results = append(results, res)
	}

	all, err := marshalJSON(results)
	if err != nil {
		return err
	}
	platform := opts.Platform()
	if len(results) == 1 {
		if err := platform.SetOutput("digest", results[0].Digest); err != nil {
			return err
		}
	}
	if err := platform.SetOutput("digests", string(all)); err != nil {
		return err
	}

	if opts.JSON {
		return writeJSON(opts.IO.Out, results)
	}
	for _, r := range results {
		// A path with a newline must not start a second line (which a CI
		// runner could read as a workflow command): it is shown escaped.
		if _, err := fmt.Fprintf(opts.IO.Out, "%s  %s\n", r.Digest, escapeControl(r.Path)); err != nil {
			return err
		}
	}
	return nil
}

// progressLine redraws one stderr line with the bytes hashed so far, for
// trees large enough to take a while.
type progressLine struct {
	io    *IOStreams
	path  string
	shown bool
}

func (p *progressLine) update(done, total int64) {
	if total < progressThreshold {
		return
	}
	p.shown = true
	fmt.Fprintf(p.io.ErrOut, "\rhashing %s: %s of %s (%d%%)\033[K", escapeControl(p.path), humanBytes(done), humanBytes(total), done*100/max(total, 1))
}

func (p *progressLine) finish() {
	if p != nil && p.shown {
		fmt.Fprintln(p.io.ErrOut)
	}
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
