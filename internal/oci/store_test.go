package oci_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/podium-ml/podium/internal/fingerprint"
	"github.com/podium-ml/podium/internal/httpclient"
	"github.com/podium-ml/podium/internal/oci"
	"github.com/podium-ml/podium/internal/oci/registrytest"
)

// fastTransport retries quickly, so fault tests take milliseconds.
func fastTransport() http.RoundTripper {
	return httpclient.NewTransport(httpclient.Options{
		MaxAttempts: 3,
		BaseWait:    time.Millisecond,
		Jitter:      func(time.Duration) time.Duration { return 0 },
	})
}

// workdir makes a step's outputs: a file, an executable file and a tree.
func workdir(t *testing.T, seed string) (string, []oci.Output) {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"metrics.json":          `{"accuracy": 0.9, "seed": "` + seed + `"}`,
		"model/weights.bin":     strings.Repeat("w"+seed, 1000),
		"model/sub/config.yaml": "layers: 3\n",
		"model/empty":           "",
		"bin/score":             "#!/bin/sh\necho " + seed + "\n",
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(dir, "bin/score"), 0o755); err != nil {
		t.Fatal(err)
	}
	var outs []oci.Output
	for _, p := range []string{"metrics.json", "model", "bin/score"} {
		outs = append(outs, oci.Output{Path: p, Digest: digestOf(t, filepath.Join(dir, p))})
	}
	return dir, outs
}

func digestOf(t *testing.T, p string) string {
	t.Helper()
	res, err := fingerprint.Compute(context.Background(), p, &fingerprint.Options{Boundary: filepath.Dir(p)})
	if err != nil {
		t.Fatal(err)
	}
	return res.Digest
}

func open(t *testing.T, host, repo string, opts oci.Options) *oci.Store {
	t.Helper()
	r, err := oci.ParseRemote("oci://" + host + "/" + repo)
	if err != nil {
		t.Fatal(err)
	}
	if opts.Transport == nil {
		opts.Transport = fastTransport()
	}
	if opts.TempDir == "" {
		opts.TempDir = t.TempDir()
	}
	s, err := oci.Open(r, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const key1 = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
const key2 = "sha256:2222222222222222222222222222222222222222222222222222222222222222"

func TestPushLookupRestore(t *testing.T) {
	t.Parallel()
	reg := registrytest.Start(t, registrytest.Options{})
	ctx := context.Background()
	s := open(t, reg.Host, "podium/roundtrip-"+strings.ToLower(t.Name()), oci.Options{})

	if e, err := s.Lookup(ctx, key1); err != nil || e != nil {
		t.Fatalf("Lookup before push = %v, %v; want a miss", e, err)
	}
	src, outs := workdir(t, "a")
	res, err := s.Push(ctx, "train", key1, src, outs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Uploaded != 3 || res.Skipped != 0 {
		t.Errorf("first push uploaded %d, skipped %d; want 3, 0", res.Uploaded, res.Skipped)
	}
	// The same outputs under another key: every blob is there already.
	res2, err := s.Push(ctx, "train", key2, src, outs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res2.Uploaded != 0 || res2.Skipped != 3 {
		t.Errorf("second push uploaded %d, skipped %d; want 0, 3 (deduplicated by digest)", res2.Uploaded, res2.Skipped)
	}

	e, err := s.Lookup(ctx, key1)
	if err != nil || e == nil {
		t.Fatalf("Lookup after push = %v, %v", e, err)
	}
	var got []oci.Output
	for _, l := range e.Outputs {
		got = append(got, l.Output)
	}
	if diff := cmp.Diff(outs, got); diff != "" {
		t.Errorf("entry outputs (-pushed +found):\n%s", diff)
	}
	if e.Step != "train" || e.Key != key1 {
		t.Errorf("entry = step %q key %q", e.Step, e.Key)
	}

	dst := t.TempDir()
	// A stale output in the way is replaced.
	os.MkdirAll(filepath.Join(dst, "model", "stale"), 0o755)
	if err := s.Restore(ctx, e, dst); err != nil {
		t.Fatal(err)
	}
	for _, o := range outs {
		if got := digestOf(t, filepath.Join(dst, o.Path)); got != o.Digest {
			t.Errorf("restored %s has digest %s, want %s", o.Path, got, o.Digest)
		}
	}
	if fi, err := os.Stat(filepath.Join(dst, "bin/score")); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("restored bin/score mode = %v, %v; want 0755", fi.Mode(), err)
	}
	if fi, err := os.Stat(filepath.Join(dst, "metrics.json")); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("restored metrics.json mode = %v, %v; want 0644", fi.Mode(), err)
	}
}

func TestAuth(t *testing.T) {
	t.Parallel()
	reg := registrytest.Start(t, registrytest.Options{Auth: true})
	ctx := context.Background()
	src, outs := workdir(t, "auth")

	// No credentials: refused, and the error says so without any secret.
	anon := open(t, reg.Host, "podium/auth", oci.Options{})
	_, err := anon.Push(ctx, "train", key1, src, outs, nil)
	if err == nil || !strings.Contains(err.Error(), "credential not found") {
		t.Fatalf("anonymous push error = %v, want credentials asked for", err)
	}

	// Credentials from the docker config, as `docker login` writes it.
	cfg := t.TempDir()
	authJSON, _ := json.Marshal(map[string]any{"auths": map[string]any{
		reg.Host: map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte(reg.Username + ":" + reg.Password))},
	}})
	if err := os.WriteFile(filepath.Join(cfg, "config.json"), authJSON, 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"DOCKER_CONFIG": cfg}
	cred, err := oci.FindCredential(ctx, reg.Host, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if cred.String() != "docker config" || cred.Secret() != reg.Password {
		t.Fatalf("credential = %v", cred)
	}
	s := open(t, reg.Host, "podium/auth", oci.Options{Credential: cred})
	if _, err := s.Push(ctx, "train", key1, src, outs, nil); err != nil {
		t.Fatal(err)
	}
	e, err := s.Lookup(ctx, key1)
	if err != nil || e == nil {
		t.Fatalf("Lookup = %v, %v", e, err)
	}
	if err := s.Restore(ctx, e, t.TempDir()); err != nil {
		t.Fatal(err)
	}
	// The same credential is not offered to another registry.
	other, err := oci.FindCredential(ctx, "127.0.0.2:1", func(k string) string { return env[k] })
	if err != nil || other.Secret() != "" {
		t.Errorf("credential for another host = %v (secret %t), %v; want none", other, other.Secret() != "", err)
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()
	reg := registrytest.Start(t, registrytest.Options{})
	ctx := context.Background()
	repo := "podium/faults"
	src, outs := workdir(t, "faults")
	direct := open(t, reg.Host, repo, oci.Options{})
	if _, err := direct.Push(ctx, "train", key1, src, outs, nil); err != nil {
		t.Fatal(err)
	}

	t.Run("transient 503 is retried", func(t *testing.T) {
		t.Parallel()
		var n atomic.Int32
		host := registrytest.Proxy(t, reg, func(w http.ResponseWriter, r *http.Request) bool {
			if n.Add(1)%2 == 1 {
				http.Error(w, "busy", http.StatusServiceUnavailable)
				return true
			}
			return false
		}, nil)
		s := open(t, host, repo, oci.Options{})
		e, err := s.Lookup(ctx, key1)
		if err != nil || e == nil {
			t.Fatalf("Lookup = %v, %v", e, err)
		}
		if err := s.Restore(ctx, e, t.TempDir()); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("persistent 500 fails", func(t *testing.T) {
		t.Parallel()
		host := registrytest.Proxy(t, reg, func(w http.ResponseWriter, r *http.Request) bool {
			http.Error(w, "broken", http.StatusInternalServerError)
			return true
		}, nil)
		s := open(t, host, repo, oci.Options{})
		e, err := s.Lookup(ctx, key1)
		if err == nil || e != nil || !strings.Contains(err.Error(), "500") {
			t.Fatalf("Lookup = %v, %v; want a 500 error", e, err)
		}
		if _, err := s.Push(ctx, "train", key2, src, outs, nil); err == nil {
			t.Fatal("Push through a failing registry succeeded")
		}
	})
	for _, tc := range []struct {
		name   string
		mangle func([]byte) []byte
		want   string
	}{
		{"flipped byte", func(b []byte) []byte { b[len(b)/2] ^= 1; return b }, "refused"},
		{"truncated", func(b []byte) []byte { return b[:len(b)-1] }, ""},
		{"longer", func(b []byte) []byte { return append(b, 'x') }, ""},
	} {
		t.Run("tampered blob: "+tc.name, func(t *testing.T) {
			t.Parallel()
			host := registrytest.Proxy(t, reg, nil, func(resp *http.Response) error {
				if !registrytest.IsBlobGet(resp.Request) || resp.StatusCode != http.StatusOK {
					return nil
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil {
					return err
				}
				if len(body) > 2 {
					body = tc.mangle(body)
				}
				resp.Body = io.NopCloser(strings.NewReader(string(body)))
				// A proxy that lies consistently: no length to catch it by.
				resp.ContentLength = -1
				resp.Header.Del("Content-Length")
				return nil
			})
			s := open(t, host, repo, oci.Options{})
			e, err := s.Lookup(ctx, key1)
			if err != nil || e == nil {
				t.Fatalf("Lookup = %v, %v", e, err)
			}
			dst := t.TempDir()
			keep := filepath.Join(dst, "metrics.json")
			os.WriteFile(keep, []byte("mine"), 0o644)
			err = s.Restore(ctx, e, dst)
			var derr *oci.DigestError
			if !errors.As(err, &derr) {
				t.Fatalf("Restore error = %v, want a *DigestError", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
			if b, _ := os.ReadFile(keep); string(b) != "mine" {
				t.Errorf("metrics.json = %q after a refused restore, want it untouched", b)
			}
			if _, err := os.Stat(filepath.Join(dst, "model")); !os.IsNotExist(err) {
				t.Errorf("model/ exists after a refused restore (%v)", err)
			}
		})
	}
}
