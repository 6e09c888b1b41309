package oci

import (
	"strings"

	"github.com/podium-ml/podium/internal/ci"
)

// WriteDecision says whether a run may write the remote cache, and why.
type WriteDecision struct {
	Write  bool
	Reason string
}

// MayWrite decides whether this run may push to the remote cache. Reading
// is always allowed; writing is what a cache poisoning needs, so by
// default only runs of trusted code write: a push to the default branch
// or a protected ref, never a pull/merge request (whose code, and so
// whose outputs, anyone who opens one controls). override, when not nil,
// is the user's explicit --cache-write: it wins, and says so.
func MayWrite(run ci.Run, override *bool) WriteDecision {
	if override != nil {
		if *override {
			return WriteDecision{true, "--cache-write"}
		}
		return WriteDecision{false, "--cache-write=false"}
	}
	switch {
	case run.Provider == "" || run.Provider == "local":
		return WriteDecision{false, "not in CI (pass --cache-write to push from here)"}
	case isPullRequest(run):
		return WriteDecision{false, "a pull/merge request run only reads the remote cache"}
	case run.Protected:
		return WriteDecision{true, "a protected ref (" + run.Ref + ")"}
	case run.DefaultBranch != "" && run.Ref == "refs/heads/"+run.DefaultBranch:
		return WriteDecision{true, "the default branch (" + run.DefaultBranch + ")"}
	}
	return WriteDecision{false, "neither the default branch nor a protected ref (" + run.Ref + ")"}
}

// isPullRequest reports whether the run is for a pull or merge request,
// whichever way the CI says it: the event, the PR/MR number or the ref.
func isPullRequest(run ci.Run) bool {
	switch run.EventName {
	case "pull_request", "pull_request_target", "pull_request_review", "pull_request_review_comment",
		"merge_request_event", "external_pull_request_event", "merge_group":
		return true
	}
	return run.PullRequest > 0 ||
		strings.HasPrefix(run.Ref, "refs/pull/") ||
		strings.HasPrefix(run.Ref, "refs/merge-requests/")
}
