// Package registrytest runs a real OCI registry for tests: Debian's
// docker-registry (CNCF distribution 2.8) on a free loopback port, with
// its storage in the test's temporary directory, with or without htpasswd
// auth; and a proxy in front of one that injects faults.
//
// Start uses PODIUM_TEST_REGISTRY (host:port of a running registry without
// auth) when it is set; otherwise it starts docker-registry itself. Where
// the binary is missing the test is skipped, except under CI (CI=true),
// where it fails: CI installs it (scripts/registry.sh install), so a
// missing binary there is a broken setup, not a reason to run nothing.
package registrytest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Registry is a running registry.
type Registry struct {
	// Host is host:port, on loopback, plain HTTP.
	Host string
	// Username and Password are set when the registry requires auth.
	Username, Password string
}

// Options choose the registry.
type Options struct {
	// Auth requires basic auth (htpasswd, bcrypt) with a random password.
	Auth bool
}

// Binary returns the registry binary's path, or "" when there is none.
func Binary() string {
	for _, name := range []string{os.Getenv("PODIUM_REGISTRY_BIN"), "docker-registry", "/usr/bin/docker-registry"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Start returns a running registry, stopped when the test ends.
func Start(t testing.TB, opts Options) *Registry {
	t.Helper()
	if h := os.Getenv("PODIUM_TEST_REGISTRY"); h != "" && !opts.Auth {
		return &Registry{Host: h}
	}
	bin := Binary()
	if bin == "" {
		msg := "docker-registry is not installed (run scripts/registry.sh install, or set PODIUM_TEST_REGISTRY)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	var reg *Registry
	var err error
	// A free port can be taken between finding and binding it: try again.
	for range 3 {
		if reg, err = start(t, bin, opts); err == nil {
			return reg
		}
	}
	t.Fatal(err)
	return nil
}

func start(t testing.TB, bin string, opts Options) (*Registry, error) {
	dir := t.TempDir()
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	reg := &Registry{Host: fmt.Sprintf("127.0.0.1:%d", port)}
	config := fmt.Sprintf(`version: 0.1
log: {level: warn, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: %s}, delete: {enabled: true}}
http: {addr: "%s"}
`, filepath.Join(dir, "data"), reg.Host)
	if opts.Auth {
		htpasswd, err := exec.LookPath("htpasswd")
		if err != nil {
			return nil, fmt.Errorf("htpasswd is not installed (apache2-utils): %w", err)
		}
		reg.Username, reg.Password = "podium", fmt.Sprintf("pw-%d-%d", time.Now().UnixNano(), port)
		out, err := exec.Command(htpasswd, "-Bbn", reg.Username, reg.Password).Output()
		if err != nil {
			return nil, fmt.Errorf("htpasswd: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dir, "htpasswd"), out, 0o600); err != nil {
			return nil, err
		}
		config += fmt.Sprintf("auth: {htpasswd: {realm: podium, path: %s}}\n", filepath.Join(dir, "htpasswd"))
	}
	if err := os.WriteFile(filepath.Join(dir, "config.yml"), []byte(config), 0o600); err != nil {
		return nil, err
	}
	log := &syncBuffer{b: &bytes.Buffer{}}
	cmd := exec.Command(bin, "serve", filepath.Join(dir, "config.yml"))
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("failed to start %s: %w", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		cmd.Process.Kill()
		<-exited
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case err := <-exited:
			exited <- err
			return nil, fmt.Errorf("docker-registry exited (%v): %s", err, log.String())
		default:
		}
		resp, err := http.Get("http://" + reg.Host + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized {
				break
			}
		}
		if time.Now().After(deadline) {
			stop()
			return nil, fmt.Errorf("docker-registry did not answer on %s: %s", reg.Host, log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Cleanup(stop)
	return reg, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

type syncBuffer struct {
	mu sync.Mutex
	b  *bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Fault decides what the proxy does with a request: handled reports that
// it answered the request itself; otherwise the request goes through.
type Fault func(w http.ResponseWriter, r *http.Request) (handled bool)

// Proxy starts a plain-HTTP proxy on loopback in front of reg and returns
// its host:port. Each request first meets fault (nil: none); modify, when
// set, may change the registry's responses.
func Proxy(t testing.TB, reg *Registry, fault Fault, modify func(*http.Response) error) string {
	t.Helper()
	target := &url.URL{Scheme: "http", Host: reg.Host}
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.ModifyResponse = modify
	rp.ErrorLog = nil
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fault != nil && fault(w, r) {
			return
		}
		rp.ServeHTTP(w, r)
	}), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(l)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			srv.Close()
		}
	})
	return l.Addr().String()
}

// IsBlobGet reports whether r fetches a blob.
func IsBlobGet(r *http.Request) bool {
	return r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/sha256:")
}
