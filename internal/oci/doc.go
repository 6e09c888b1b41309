// Package oci keeps podium's step cache, and the outputs it restores, in an
// OCI registry: the CI's own content-addressed store (ghcr.io, GitLab's
// container registry, any distribution-spec registry). It is built on
// oras-go (oras.land/oras-go/v2): a small library made for non-image
// artifacts, whose repository client takes podium's own retrying
// *http.Client and a per-host credential function, and speaks the
// referrers API with its tag-schema fallback.
//
// A cache entry is one OCI image manifest tagged by the step's cache key:
// one layer per declared output (a file's layer is its bytes; a
// directory's is a deterministic tar of its files), each annotated with
// the output's path and fingerprint. Looking an entry up is one manifest
// GET; a hit fetches the layers, checks each blob's sha256 and size and
// then each restored output's fingerprint, and only then moves the output
// into place. Blobs are content-addressed, so an output that did not
// change is never uploaded twice: a HEAD finds it.
package oci

import "github.com/podium-ml/podium/internal/oci/ociref"

// Remote is a repository in a registry (ociref.Remote).
type Remote = ociref.Remote

// ParseRemote parses oci://host/repository (ociref.ParseRemote).
func ParseRemote(s string) (Remote, error) { return ociref.ParseRemote(s) }

// Loopback reports whether host is on this machine (ociref.Loopback).
func Loopback(host string) bool { return ociref.Loopback(host) }

// ParseReference parses oci://host/repository:tag or @sha256:… (ociref.ParseReference).
func ParseReference(s string) (Remote, string, error) { return ociref.ParseReference(s) }
