package cli

import (
	"context"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/podium-ml/podium/internal/ci"
	"github.com/podium-ml/podium/internal/redact"
	"github.com/podium-ml/podium/internal/scm"
)

// IOStreams are the process's standard streams. Out carries only data
// (JSON, a path, a URL); ErrOut carries progress, logs and messages.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// ErrTTY is true when ErrOut is a terminal (progress lines are shown).
	ErrTTY bool
	// OutTTY is true when Out is a terminal (tables instead of plain text).
	OutTTY bool
}

// Factory holds every dependency a command needs, built lazily, so that
// tests replace any of them and commands never reach for globals.
type Factory struct {
	IO     *IOStreams
	Getenv func(string) string
	Now    func() time.Time
	// Secrets masks tokens in everything the CLI prints.
	Secrets *redact.Redactor

	// Platform is the CI system podium runs under.
	Platform func() ci.Platform
	// Host is the code host (GitHub or GitLab). Everything about it (kind,
	// API URL, repository, token) comes from the environment the CI job sets
	// (GITHUB_REPOSITORY, GITHUB_API_URL, GITHUB_TOKEN; CI_PROJECT_ID,
	// CI_API_V4_URL, GITLAB_TOKEN), which a workflow can also set by hand to
	// reach another repository.
	Host func(ctx context.Context) (scm.Host, error)
}

// System returns the Factory for the real process: os streams, the real
// environment and clock, CI detection from the environment.
func System() *Factory {
	secrets := &redact.Redactor{}
	f := &Factory{
		IO: &IOStreams{
			In:     os.Stdin,
			Out:    secrets.Writer(os.Stdout),
			ErrOut: secrets.Writer(os.Stderr),
			ErrTTY: term.IsTerminal(int(os.Stderr.Fd())),
			OutTTY: term.IsTerminal(int(os.Stdout.Fd())),
		},
		Getenv:  os.Getenv,
		Now:     time.Now,
		Secrets: secrets,
	}
	f.Platform = sync.OnceValue(func() ci.Platform {
		return ci.Detect(f.Getenv, f.IO.Out, f.IO.ErrOut)
	})
	f.Host = defaultHost(f)
	return f
}
