package oci

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/credentials"
)

// Credential is what podium found for one registry host, and where.
type Credential struct {
	Host   string
	Source string // "GITHUB_TOKEN", "CI_JOB_TOKEN", "docker config", "" (anonymous)
	cred   auth.Credential
}

// Secret returns the password or token, for the caller to mask in the CI
// log before anything runs; "" when there is none.
func (c Credential) Secret() string {
	if c.cred.Password != "" {
		return c.cred.Password
	}
	return c.cred.RefreshToken
}

// String never shows the secret.
func (c Credential) String() string {
	if c.Source == "" {
		return "anonymous"
	}
	return c.Source
}

// FindCredential returns the credential for host, from the first of:
//   - GitHub Actions, for ghcr.io: GITHUB_TOKEN (the job's token; it needs
//     `packages: write` to push, `packages: read` to pull), as GITHUB_ACTOR;
//   - GitLab CI, for the project's registry (CI_REGISTRY):
//     CI_REGISTRY_USER/CI_REGISTRY_PASSWORD, else CI_JOB_TOKEN as
//     gitlab-ci-token;
//   - the docker config ($DOCKER_CONFIG/config.json, else
//     ~/.docker/config.json), credential helpers included;
//   - none (anonymous pulls).
//
// A CI token is only ever offered to its own CI's registry: a spec that
// names another host (a pull request can edit the spec) gets nothing from
// the environment.
func FindCredential(ctx context.Context, host string, getenv func(string) string) (Credential, error) {
	switch {
	case getenv("GITHUB_ACTIONS") == "true" && host == "ghcr.io" && getenv("GITHUB_TOKEN") != "":
		user := getenv("GITHUB_ACTOR")
		if user == "" {
			user = "podium"
		}
		return Credential{Host: host, Source: "GITHUB_TOKEN", cred: auth.Credential{Username: user, Password: getenv("GITHUB_TOKEN")}}, nil
	case getenv("GITLAB_CI") == "true" && getenv("CI_REGISTRY") != "" && strings.EqualFold(host, getenv("CI_REGISTRY")):
		if u, p := getenv("CI_REGISTRY_USER"), getenv("CI_REGISTRY_PASSWORD"); u != "" && p != "" {
			return Credential{Host: host, Source: "CI_REGISTRY_PASSWORD", cred: auth.Credential{Username: u, Password: p}}, nil
		}
		if tok := getenv("CI_JOB_TOKEN"); tok != "" {
			return Credential{Host: host, Source: "CI_JOB_TOKEN", cred: auth.Credential{Username: "gitlab-ci-token", Password: tok}}, nil
		}
	}
	path := dockerConfigPath(getenv)
	if path == "" {
		return Credential{Host: host}, nil
	}
	if _, err := os.Stat(path); err != nil {
		return Credential{Host: host}, nil
	}
	store, err := credentials.NewStore(path, credentials.StoreOptions{})
	if err != nil {
		return Credential{}, fmt.Errorf("failed to read the docker config %s: %w", path, err)
	}
	cred, err := store.Get(ctx, host)
	if err != nil {
		return Credential{}, fmt.Errorf("failed to read credentials for %s from the docker config %s: %w", host, path, err)
	}
	if cred == auth.EmptyCredential {
		return Credential{Host: host}, nil
	}
	return Credential{Host: host, Source: "docker config", cred: cred}, nil
}

func dockerConfigPath(getenv func(string) string) string {
	if d := getenv("DOCKER_CONFIG"); d != "" {
		return filepath.Join(d, "config.json")
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".docker", "config.json")
	}
	return ""
}

// credentialFunc offers c to its own host and to no other.
func (c Credential) credentialFunc() auth.CredentialFunc {
	return func(_ context.Context, hostport string) (auth.Credential, error) {
		if c.Source == "" || !strings.EqualFold(hostport, c.Host) {
			return auth.EmptyCredential, nil
		}
		return c.cred, nil
	}
}
