package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/podium-ml/podium/internal/ci"
	"github.com/podium-ml/podium/internal/fingerprint"
	"github.com/podium-ml/podium/internal/oci"
	"github.com/podium-ml/podium/internal/redact"
	"github.com/podium-ml/podium/internal/spec"
)

// artifactOptions are propose's flags for models as OCI artifacts.
type artifactOptions struct {
	Getenv  func(string) string
	Secrets *redact.Redactor
	// Push is the OCI repository the model artifact goes to
	// (--push-artifact); "" pushes nothing.
	Push string
	// Statement is an in-toto statement file attached to the pushed
	// artifact as a referrer (--attach-statement).
	Statement string
	// ModelcarBase, when set, makes the pushed artifact a KServe modelcar:
	// this image (oci://host/repository:tag or @sha256:…) with the model
	// under /models (--modelcar-base).
	ModelcarBase string
}

// pushArtifact pushes the spec's artifact (its digest from the run) to
// opts.Push, tagged with the version, attaches the statement, and returns
// the immutable reference deploy templates see as .Artifact.OCI. With
// dryRun it sends nothing and returns the reference a push would give.
func pushArtifact(ctx context.Context, opts artifactOptions, s *spec.Spec, p ci.Platform, errOut io.Writer, fp, version string, dryRun bool) (string, error) {
	r, err := oci.ParseRemote(opts.Push)
	if err != nil {
		return "", flagErrorf("invalid --push-artifact: %v", err)
	}
	var statement []byte
	if opts.Statement != "" {
		if statement, err = os.ReadFile(opts.Statement); err != nil {
			return "", inputErrorf("--attach-statement: %w", err)
		}
	}
	cred, err := oci.FindCredential(ctx, r.Host, opts.Getenv)
	if err != nil {
		return "", err
	}
	if secret := cred.Secret(); secret != "" {
		if opts.Secrets != nil {
			opts.Secrets.Add(secret)
		}
		p.Mask(secret)
	}
	store, err := oci.Open(r, oci.Options{TempDir: os.TempDir(), Credential: cred})
	if err != nil {
		return "", err
	}
	clean, err := fingerprint.Local(s.Artifact)
	if err != nil {
		return "", inputErrorf("%s: artifact: %v", s.File, err)
	}
	var ref oci.Ref
	if opts.ModelcarBase != "" {
		br, bref, err := oci.ParseReference(opts.ModelcarBase)
		if err != nil {
			return "", flagErrorf("invalid --modelcar-base: %v", err)
		}
		baseStore := store
		if br != r {
			bcred, err := oci.FindCredential(ctx, br.Host, opts.Getenv)
			if err != nil {
				return "", err
			}
			if secret := bcred.Secret(); secret != "" {
				if opts.Secrets != nil {
					opts.Secrets.Add(secret)
				}
				p.Mask(secret)
			}
			if baseStore, err = oci.Open(br, oci.Options{TempDir: os.TempDir(), Credential: bcred}); err != nil {
				return "", err
			}
		}
		ref, err = store.Modelcar(ctx, baseStore, bref, s.Dir, clean, version, dryRun)
	} else {
		ref, err = store.PushArtifact(ctx, s.Dir, clean, fp, version, map[string]string{
			"org.opencontainers.image.title":   s.Model,
			"org.opencontainers.image.version": version,
		}, dryRun)
	}
	if err != nil {
		return "", err
	}
	if dryRun {
		fmt.Fprintf(errOut, "podium: would push %s as %s\n", s.Artifact, ref)
		return ref.String(), nil
	}
	fmt.Fprintf(errOut, "podium: pushed %s as %s\n", s.Artifact, ref)
	if statement != nil {
		att, err := store.Attach(ctx, ref, oci.ArtifactTypeInToto, statement, nil)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(errOut, "podium: attached %s to it as %s\n", filepath.Base(opts.Statement), att)
	}
	return ref.String(), nil
}

// usesOCI reports whether a deploy template reads .Artifact.OCI.
func usesOCI(s *spec.Spec) bool {
	return s.Deploy != nil && strings.Contains(s.Deploy.Value, ".Artifact.OCI")
}
