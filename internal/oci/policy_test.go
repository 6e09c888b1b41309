package oci_test

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/podium-ml/podium/internal/ci"
	"github.com/podium-ml/podium/internal/oci"
)

func TestMayWrite(t *testing.T) {
	t.Parallel()
	event := filepath.Join(t.TempDir(), "event.json")
	if err := os.WriteFile(event, []byte(`{"repository": {"default_branch": "main"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	prEvent := filepath.Join(t.TempDir(), "pr.json")
	if err := os.WriteFile(prEvent, []byte(`{"pull_request": {"number": 7}, "repository": {"default_branch": "main"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	gh := func(env map[string]string) ci.Run {
		env["GITHUB_ACTIONS"] = "true"
		return ci.Detect(func(k string) string { return env[k] }, io.Discard, io.Discard).Run()
	}
	gl := func(env map[string]string) ci.Run {
		env["GITLAB_CI"] = "true"
		return ci.Detect(func(k string) string { return env[k] }, io.Discard, io.Discard).Run()
	}
	yes, no := true, false
	tests := []struct {
		name     string
		run      ci.Run
		override *bool
		want     bool
	}{
		{"github push to the default branch", gh(map[string]string{"GITHUB_EVENT_NAME": "push", "GITHUB_REF": "refs/heads/main", "GITHUB_EVENT_PATH": event}), nil, true},
		{"github push to a protected release branch", gh(map[string]string{"GITHUB_EVENT_NAME": "push", "GITHUB_REF": "refs/heads/release", "GITHUB_REF_PROTECTED": "true", "GITHUB_EVENT_PATH": event}), nil, true},
		{"github push to a feature branch", gh(map[string]string{"GITHUB_EVENT_NAME": "push", "GITHUB_REF": "refs/heads/feature", "GITHUB_EVENT_PATH": event}), nil, false},
		{"github pull request", gh(map[string]string{"GITHUB_EVENT_NAME": "pull_request", "GITHUB_REF": "refs/pull/7/merge", "GITHUB_EVENT_PATH": prEvent}), nil, false},
		// A PR whose base is protected still runs the PR's code.
		{"github pull request on a protected ref", gh(map[string]string{"GITHUB_EVENT_NAME": "pull_request", "GITHUB_REF": "refs/pull/7/merge", "GITHUB_REF_PROTECTED": "true", "GITHUB_EVENT_PATH": prEvent}), nil, false},
		{"github pull_request_target", gh(map[string]string{"GITHUB_EVENT_NAME": "pull_request_target", "GITHUB_REF": "refs/heads/main", "GITHUB_EVENT_PATH": prEvent}), nil, false},
		{"github merge queue", gh(map[string]string{"GITHUB_EVENT_NAME": "merge_group", "GITHUB_REF": "refs/heads/gh-readonly-queue/main/pr-7", "GITHUB_EVENT_PATH": event}), nil, false},
		{"gitlab default branch", gl(map[string]string{"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_REF_NAME": "main", "CI_DEFAULT_BRANCH": "main"}), nil, true},
		{"gitlab protected tag", gl(map[string]string{"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_TAG": "v1", "CI_COMMIT_REF_PROTECTED": "true"}), nil, true},
		{"gitlab merge request", gl(map[string]string{"CI_PIPELINE_SOURCE": "merge_request_event", "CI_MERGE_REQUEST_IID": "3", "CI_COMMIT_REF_NAME": "main", "CI_DEFAULT_BRANCH": "main"}), nil, false},
		{"gitlab unprotected branch", gl(map[string]string{"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_REF_NAME": "wip", "CI_DEFAULT_BRANCH": "main"}), nil, false},
		{"local", ci.Run{Provider: "local"}, nil, false},
		{"local with --cache-write", ci.Run{Provider: "local"}, &yes, true},
		{"pull request with --cache-write", gh(map[string]string{"GITHUB_EVENT_NAME": "pull_request", "GITHUB_REF": "refs/pull/7/merge", "GITHUB_EVENT_PATH": prEvent}), &yes, true},
		{"default branch with --cache-write=false", gh(map[string]string{"GITHUB_EVENT_NAME": "push", "GITHUB_REF": "refs/heads/main", "GITHUB_EVENT_PATH": event}), &no, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := oci.MayWrite(tc.run, tc.override)
			if got.Write != tc.want || got.Reason == "" {
				t.Errorf("MayWrite(%+v) = %+v, want write=%t with a reason", tc.run, got, tc.want)
			}
		})
	}
}

func TestFindCredential(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	tests := []struct {
		name       string
		host       string
		env        map[string]string
		wantSource string
		wantSecret string
	}{
		{"github token for ghcr.io", "ghcr.io", map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_TOKEN": "ghs_x"}, "GITHUB_TOKEN", "ghs_x"},
		// A spec (which a pull request can edit) naming another host gets nothing.
		{"github token not for another host", "evil.example.com", map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_TOKEN": "ghs_x"}, "", ""},
		{"gitlab registry password", "registry.gitlab.com", map[string]string{"GITLAB_CI": "true", "CI_REGISTRY": "registry.gitlab.com", "CI_REGISTRY_USER": "gitlab-ci-token", "CI_REGISTRY_PASSWORD": "glcbt-y", "CI_JOB_TOKEN": "glcbt-y"}, "CI_REGISTRY_PASSWORD", "glcbt-y"},
		{"gitlab job token", "registry.gitlab.com", map[string]string{"GITLAB_CI": "true", "CI_REGISTRY": "registry.gitlab.com", "CI_JOB_TOKEN": "glcbt-z"}, "CI_JOB_TOKEN", "glcbt-z"},
		{"gitlab token not for another host", "ghcr.io", map[string]string{"GITLAB_CI": "true", "CI_REGISTRY": "registry.gitlab.com", "CI_JOB_TOKEN": "glcbt-z"}, "", ""},
		{"nothing", "ghcr.io", map[string]string{"HOME": t.TempDir()}, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := oci.FindCredential(ctx, tc.host, func(k string) string { return tc.env[k] })
			if err != nil {
				t.Fatal(err)
			}
			if c.Source != tc.wantSource || c.Secret() != tc.wantSecret {
				t.Errorf("FindCredential = source %q secret %q, want %q %q", c.Source, c.Secret(), tc.wantSource, tc.wantSecret)
			}
			if tc.wantSecret != "" && (c.String() == tc.wantSecret || c.String() == "") {
				t.Errorf("String() = %q", c.String())
			}
		})
	}
}
