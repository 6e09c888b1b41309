package ociref_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/podium-ml/podium/internal/oci/ociref"
)

func TestParseRemote(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    ociref.Remote
		wantErr string
	}{
		{in: "oci://ghcr.io/acme/weather-cache", want: ociref.Remote{Host: "ghcr.io", Repository: "acme/weather-cache"}},
		{in: "oci://registry.gitlab.com/group/sub/project/cache", want: ociref.Remote{Host: "registry.gitlab.com", Repository: "group/sub/project/cache"}},
		{in: "oci://127.0.0.1:5000/podium/cache", want: ociref.Remote{Host: "127.0.0.1:5000", Repository: "podium/cache"}},
		{in: "oci://GHCR.IO/acme/x", want: ociref.Remote{Host: "ghcr.io", Repository: "acme/x"}},
		{in: "oci://[::1]:5000/a", want: ociref.Remote{Host: "[::1]:5000", Repository: "a"}},
		{in: "https://ghcr.io/acme/x", wantErr: "want oci://host/repository"},
		{in: "oci://ghcr.io", wantErr: "want oci://host/repository"},
		{in: "oci:///acme", wantErr: "want oci://host/repository"},
		{in: "oci://ghcr.io/Acme/x", wantErr: "not a repository name"},
		{in: "oci://ghcr.io/acme/x:v1", wantErr: "without a tag or digest"},
		{in: "oci://ghcr.io/acme/x@sha256:00", wantErr: "without a tag or digest"},
		{in: "oci://user:secret@ghcr.io/acme/x", wantErr: "credentials do not belong"},
		{in: "oci://ghcr.io:99999/acme/x", wantErr: "out of range"},
		{in: "oci://bad_host/acme/x", wantErr: "not a registry host"},
		{in: "oci://ghcr.io/acme//x", wantErr: "not a repository name"},
		{in: "oci://ghcr.io/../x", wantErr: "not a repository name"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			got, err := ociref.ParseRemote(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseRemote(%q) error = %v, want %q", tc.in, err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Errorf("error %q shows the password", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseRemote(%q) (-want +got):\n%s", tc.in, diff)
			}
			if again, err := ociref.ParseRemote(got.String()); err != nil || again != got {
				t.Errorf("String() %q does not parse back: %v, %v", got, again, err)
			}
		})
	}
}

func TestLoopback(t *testing.T) {
	t.Parallel()
	for host, want := range map[string]bool{
		"127.0.0.1:5000": true, "localhost:5000": true, "[::1]:80": true, "localhost": true,
		"ghcr.io": false, "10.0.0.1:5000": false, "localhost.example.com": false,
	} {
		if got := ociref.Loopback(host); got != want {
			t.Errorf("Loopback(%q) = %t, want %t", host, got, want)
		}
	}
}

func FuzzParseRemote(f *testing.F) {
	for _, s := range []string{"oci://ghcr.io/acme/x", "oci://127.0.0.1:5000/a/b", "oci://u:p@h/x", "oci://h:0/x", "oci://[::1]/a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ociref.ParseRemote(s)
		if err != nil {
			return
		}
		// Whatever parses names a host and a repository, and round-trips.
		if r.Host == "" || r.Repository == "" || strings.Contains(r.Host, "@") {
			t.Fatalf("ParseRemote(%q) = %+v", s, r)
		}
		if again, err := ociref.ParseRemote(r.String()); err != nil || again != r {
			t.Fatalf("%q: String() %q parses to %+v, %v", s, r, again, err)
		}
	})
}

func TestParseReference(t *testing.T) {
	t.Parallel()
	d := "sha256:" + strings.Repeat("ab", 32)
	tests := []struct {
		in, host, repo, ref, wantErr string
	}{
		{in: "oci://ghcr.io/acme/base:1.2", host: "ghcr.io", repo: "acme/base", ref: "1.2"},
		{in: "oci://127.0.0.1:5000/base/busybox:1", host: "127.0.0.1:5000", repo: "base/busybox", ref: "1"},
		{in: "oci://ghcr.io/acme/base@" + d, host: "ghcr.io", repo: "acme/base", ref: d},
		{in: "oci://127.0.0.1:5000/base", wantErr: "name a tag"},
		{in: "oci://ghcr.io/acme/base@sha256:00", wantErr: "not a sha256 digest"},
		{in: "oci://ghcr.io/acme/base:-x", wantErr: "not a tag"},
		{in: "ghcr.io/acme/base:1", wantErr: "want oci://"},
	}
	for _, tc := range tests {
		r, ref, err := ociref.ParseReference(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseReference(%q) error = %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || r.Host != tc.host || r.Repository != tc.repo || ref != tc.ref {
			t.Errorf("ParseReference(%q) = %+v %q %v", tc.in, r, ref, err)
		}
	}
}

func FuzzParseReference(f *testing.F) {
	f.Add("oci://ghcr.io/acme/base:1.2")
	f.Add("oci://h:5/a@sha256:" + strings.Repeat("0", 64))
	f.Fuzz(func(t *testing.T, s string) {
		r, ref, err := ociref.ParseReference(s)
		if err != nil {
			return
		}
		if ref == "" || r.Host == "" || r.Repository == "" {
			t.Fatalf("ParseReference(%q) = %+v %q", s, r, ref)
		}
	})
}
