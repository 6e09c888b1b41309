package cli

import (
	"context"
	"errors"

	"github.com/podium-ml/podium/internal/scm"
)

// defaultHost builds the code-host client from the environment.
func defaultHost(f *Factory) func(context.Context, HostOptions) (scm.Host, error) {
	return func(ctx context.Context, opts HostOptions) (scm.Host, error) {
		return nil, errors.New("no code host configured")
	}
}
