package record

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/podium-ml/podium/internal/redact"
)

// Canary secrets: shaped like real tokens, valid for nothing.
const (
	canaryGitHub = "ghp_CANARY0123456789abcdefghijklmnopqrstuv"
	canaryGitLab = "glpat-CANARY0123456789abcd"
	canaryEnv    = "wandb-CANARY-5f1c2e9a7b3d"
)

func TestScrubberWhy(t *testing.T) {
	t.Parallel()
	known := &redact.Redactor{}
	known.Add("app-installation-CANARY")
	s := NewScrubber([]string{
		"WANDB_API_KEY=" + canaryEnv,
		"DB_PASSWORD=hunter2hunter2hunter2",
		"CACHE_KEY=1",           // too short to be a secret
		"PATH=/usr/bin:/bin",    // not secret-named
		"HOME=/home/runner",     // not secret-named
		"MY_TOKEN",              // not KEY=VALUE
		"SHORT_SECRET=abcdefgh", // equal only, not contained
	}, known)
	tests := []struct {
		name  string
		value string
		want  string
	}{
		{name: "plain text", value: "adam", want: ""},
		{name: "a path", value: "/usr/bin", want: ""},
		{name: "GitHub classic token", value: canaryGitHub, want: "looks like a GitHub token"},
		{name: "GitHub token in a URL", value: "https://x-access-token:" + canaryGitHub + "@github.com/a/b", want: "looks like a GitHub token"},
		{name: "GitHub fine-grained token", value: "github_pat_11CANARY0123456789abcdefghij", want: "looks like a GitHub fine-grained token"},
		{name: "GitLab token", value: canaryGitLab, want: "looks like a GitLab token"},
		{name: "Hugging Face token", value: "hf_CANARY0123456789abcdefghijklmnopqr", want: "looks like a Hugging Face token"},
		{name: "AWS key id", value: "AKIACANARY0123456789", want: "looks like an AWS access key id"},
		{name: "private key", value: "-----BEGIN OPENSSH PRIVATE KEY-----\nabc", want: "looks like a private key"},
		{name: "URL with a password", value: "postgres://ml:s3cret@db:5432/features", want: "looks like a URL with a password"},
		{name: "env secret equal", value: canaryEnv, want: "holds the value of a secret environment variable"},
		{name: "env secret inside", value: "Bearer " + canaryEnv, want: "holds the value of a secret environment variable"},
		{name: "short env secret equal", value: "abcdefgh", want: "holds the value of a secret environment variable"},
		{name: "short env secret inside is not matched", value: "xabcdefghx", want: ""},
		{name: "too short env value ignored", value: "1", want: ""},
		{name: "known secret", value: "token app-installation-CANARY", want: "holds a secret podium uses"},
		{name: "digest", value: "sha256:" + strings.Repeat("a", 64), want: ""},
		{name: "glob word is not a GitLab token", value: "glob-pattern-for-metric-names", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := s.Why(tt.value); got != tt.want {
				t.Errorf("Why(%q) = %q, want %q", tt.value, got, tt.want)
			}
		})
	}
}

func TestScrubMasksSecretsEverywhere(t *testing.T) {
	t.Parallel()
	src := fixtureSource(t, true)
	// A token in a param value, nested, as a key, and in a metric name;
	// an env secret's value in another param and in the CI branch.
	src.Run.Params["hub_token"] = canaryGitHub
	src.Run.Params["nested"] = map[string]any{"list": []any{"ok", canaryGitLab}}
	src.Run.Params[canaryGitHub] = "key is the token"
	src.Run.Metrics["loss_"+canaryGitLab] = 0.5
	src.Run.Params["tracking"] = canaryEnv
	src.CI.Branch = "leak-" + canaryEnv + "-branch"
	r := build(t, src)

	scrubber := NewScrubber([]string{"WANDB_API_KEY=" + canaryEnv, "GITHUB_TOKEN=" + canaryGitHub}, nil)
	clean, findings, err := Scrub(r, scrubber)
	if err != nil {
		t.Fatal(err)
	}
	data, err := clean.Marshal()
	if err != nil {
		t.Fatalf("scrubbed record is not valid: %v", err)
	}
	for _, secret := range []string{canaryGitHub, canaryGitLab, canaryEnv, "CANARY"} {
		if bytes.Contains(data, []byte(secret)) {
			t.Errorf("record holds %q:\n%s", secret, data)
		}
	}
	var got []string
	for _, f := range findings {
		got = append(got, f.String())
	}
	want := []string{
		"/commit/branch: holds the value of a secret environment variable",
		"/metrics/***: a key looks like a GitLab token",
		"/params/***: a key looks like a GitHub token",
		"/params/hub_token: looks like a GitHub token",
		"/params/nested/list/1: looks like a GitLab token",
		"/params/tracking: holds the value of a secret environment variable",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if clean.Params["***"] != "key is the token" || clean.Metrics["***"] != 0.5 {
		t.Errorf("masked keys lost their values: %v %v", clean.Params, clean.Metrics)
	}
	// The original record is not changed.
	if r.Params["hub_token"] != canaryGitHub {
		t.Error("Scrub changed its input")
	}
}

func TestScrubLeavesDigestsAlone(t *testing.T) {
	t.Parallel()
	r := build(t, fixtureSource(t, true))
	// An env var named like a key that holds a digest (a cache key) must
	// not corrupt the record's digests.
	scrubber := NewScrubber([]string{"CACHE_KEY=" + r.Artifact.Digest, "SPEC_KEY=" + r.SpecDigest}, nil)
	clean, findings, err := Scrub(r, scrubber)
	if err != nil {
		t.Fatal(err)
	}
	if len(findings) != 0 {
		t.Errorf("findings = %v, want none", findings)
	}
	if diff := cmp.Diff(r, clean); diff != "" {
		t.Errorf("Scrub changed a clean record (-want +got):\n%s", diff)
	}
}

func TestScrubMaskedKeysDoNotCollide(t *testing.T) {
	t.Parallel()
	src := fixtureSource(t, false)
	src.Run.Params[canaryGitHub] = "a"
	src.Run.Params[canaryGitLab] = "b"
	src.Run.Params["***"] = "c"
	clean, findings, err := Scrub(build(t, src), NewScrubber(nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(findings) != 2 {
		t.Errorf("findings = %v", findings)
	}
	var values []string
	for _, k := range []string{"***", "***2", "***3"} {
		v, _ := clean.Params[k].(string)
		values = append(values, v)
	}
	if diff := cmp.Diff([]string{"c", "a", "b"}, values); diff != "" {
		t.Errorf("masked keys (-want +got):\n%s\nparams %v", diff, clean.Params)
	}
}
