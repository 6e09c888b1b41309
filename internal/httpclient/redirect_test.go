package httpclient_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	gh "github.com/google/go-github/v60/github"

	"github.com/podium-ml/podium/internal/httpclient"
	"github.com/podium-ml/podium/internal/scm/scmtest"
)

const secret = "glptt-REDIRECTCANARY0123456789"

// redirector answers /away with a redirect to target+path and /home with
// a redirect to its own /ok; anything else is 200 with what it received.
func redirector(t *testing.T, code int, target string) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		switch {
		case strings.HasSuffix(r.URL.Path, "/away"):
			http.Redirect(w, r, target+r.URL.Path, code)
		case strings.HasSuffix(r.URL.Path, "/home"):
			http.Redirect(w, r, srv.URL+strings.TrimSuffix(r.URL.Path, "/home")+"/moved", code)
		default:
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"ok":true,"auth":"`+r.Header.Get("Private-Token")+r.Header.Get("Authorization")+`"}`)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestRedirectToAnotherOriginCarriesNoCredential sends GET and POST
// requests with each kind of credential (GitHub's Authorization, GitLab's
// PRIVATE-TOKEN and JOB-TOKEN headers, a trigger token in the body) to a
// server that redirects them to another host or port: the call fails,
// naming the target, and the other origin sees nothing.
func TestRedirectToAnotherOriginCarriesNoCredential(t *testing.T) {
	t.Parallel()
	foreign := scmtest.NewForeign(t)
	otherPort := scmtest.NewForeign(t) // 127.0.0.2 on another port is another origin too
	for _, code := range []int{301, 302, 303, 307, 308} {
		for _, method := range []string{"GET", "POST"} {
			for _, header := range []string{"Authorization", "PRIVATE-TOKEN", "JOB-TOKEN"} {
				name := http.StatusText(code) + "/" + method + "/" + header
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					home := redirector(t, code, foreign.URL)
					f := newClient(t, httpclient.Options{})
					req, err := http.NewRequestWithContext(t.Context(), method, home.URL+"/api/away", strings.NewReader("token="+secret))
					if err != nil {
						t.Fatal(err)
					}
					req.Header.Set(header, secret)
					resp, err := f.client.Do(req)
					if err == nil {
						resp.Body.Close()
						t.Fatalf("the redirect was followed: %d", resp.StatusCode)
					}
					var rerr *httpclient.RedirectError
					if !errors.As(err, &rerr) {
						t.Fatalf("error %v is not a *RedirectError", err)
					}
					if !strings.Contains(err.Error(), strings.TrimPrefix(foreign.URL, "http://")) || !strings.Contains(err.Error(), "credentials") {
						t.Errorf("error %q does not name the target and why", err)
					}
					if rerr.Status != code {
						t.Errorf("status = %d, want %d", rerr.Status, code)
					}
				})
			}
		}
	}
	t.Run("other port", func(t *testing.T) {
		t.Parallel()
		home := redirector(t, 307, otherPort.URL)
		f := newClient(t, httpclient.Options{})
		req, _ := http.NewRequestWithContext(t.Context(), "GET", home.URL+"/away", nil)
		req.Header.Set("PRIVATE-TOKEN", secret)
		if resp, err := f.client.Do(req); err == nil {
			resp.Body.Close()
			t.Fatal("a redirect to another port was followed")
		}
	})
	t.Cleanup(func() {
		for _, srv := range []*scmtest.Foreign{foreign, otherPort} {
			if got := srv.Requests(); len(got) > 0 {
				t.Errorf("the other origin received %d requests, first %s %s with headers %v", len(got), got[0].Method, got[0].Path, got[0].Header)
			}
		}
	})
}

// TestGoGitHubAuthStaysHome drives go-github, whose auth transport sets
// Authorization on every hop, through a redirect to another origin: the
// token must not reach it. A redirect within the origin (a renamed
// repository) is followed and authenticated.
func TestGoGitHubAuthStaysHome(t *testing.T) {
	t.Parallel()
	foreign := scmtest.NewForeign(t)
	home := redirector(t, http.StatusMovedPermanently, foreign.URL)
	client := gh.NewClient(httpclient.New(httpclient.Options{})).WithAuthToken(secret)
	base, _ := client.BaseURL.Parse(home.URL + "/")
	client.BaseURL = base

	req, _ := client.NewRequest("GET", "repos/o/r/away", nil)
	if _, err := client.Do(t.Context(), req, nil); err == nil || !strings.Contains(err.Error(), "127.0.0.2") {
		t.Errorf("error = %v, want a refused redirect naming 127.0.0.2", err)
	}
	if got := foreign.Requests(); len(got) > 0 {
		t.Errorf("the other origin received %s %s with Authorization %q", got[0].Method, got[0].Path, got[0].Header.Get("Authorization"))
	}

	req, _ = client.NewRequest("GET", "repos/o/r/home", nil)
	var body struct{ Auth string }
	if _, err := client.Do(t.Context(), req, &body); err != nil {
		t.Fatalf("same-origin redirect: %v", err)
	}
	if diff := cmp.Diff("Bearer "+secret, body.Auth); diff != "" {
		t.Errorf("same-origin redirect lost the credential (-want +got):\n%s", diff)
	}
}

// TestSameOriginRedirectKeepsWorking follows 301, 307 and 308 within the
// API's origin with the body and credentials intact.
func TestSameOriginRedirectKeepsWorking(t *testing.T) {
	t.Parallel()
	for _, code := range []int{301, 307, 308} {
		for _, method := range []string{"GET", "POST"} {
			t.Run(http.StatusText(code)+"/"+method, func(t *testing.T) {
				t.Parallel()
				home := redirector(t, code, "")
				f := newClient(t, httpclient.Options{})
				req, _ := http.NewRequestWithContext(t.Context(), method, home.URL+"/home", strings.NewReader("{}"))
				req.Header.Set("PRIVATE-TOKEN", secret)
				resp, err := f.client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				data, _ := io.ReadAll(resp.Body)
				if want := `{"ok":true,"auth":"` + secret + `"}`; string(data) != want {
					t.Errorf("body = %s, want %s", data, want)
				}
			})
		}
	}
}

// TestConfineWrapsAnyClient: a backend given a plain *http.Client still
// refuses a redirect to another origin.
func TestConfineWrapsAnyClient(t *testing.T) {
	t.Parallel()
	foreign := scmtest.NewForeign(t)
	home := redirector(t, 307, foreign.URL)
	c := httpclient.Confine(&http.Client{})
	req, _ := http.NewRequestWithContext(t.Context(), "POST", home.URL+"/away", strings.NewReader("token="+secret))
	if resp, err := c.Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("followed")
	}
	if n := len(foreign.Requests()); n != 0 {
		t.Errorf("the other origin received %d requests", n)
	}
}
