package httpclient_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/podium-ml/podium/internal/httpclient"
)

// gzipBomb returns a gzip stream of a JSON document whose string value is
// n MiB of 'a': a few KiB per GiB, built from concatenated gzip members
// (which gzip readers, net/http's included, read as one stream) so the
// test never compresses the whole thing.
func gzipBomb(t testing.TB, mib int) []byte {
	t.Helper()
	member := func(data []byte) []byte {
		var b bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		zw.Write(data)
		zw.Close()
		return b.Bytes()
	}
	chunk := member(bytes.Repeat([]byte{'a'}, 1<<20))
	var out bytes.Buffer
	out.Write(member([]byte(`{"message":"`)))
	for range mib {
		out.Write(chunk)
	}
	out.Write(member([]byte(`"}`)))
	return out.Bytes()
}

func bombServer(t *testing.T, code int, bomb []byte) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Length", strconv.Itoa(len(bomb)))
		w.WriteHeader(code)
		w.Write(bomb)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestGzipBombIsCapped serves a small gzip body that inflates to 1 GiB,
// as a success and as an error: reading it fails with a
// *BodyTooLargeError once the decompressed bytes pass the cap, and the
// client allocates a small fraction of the bomb on the way.
func TestGzipBombIsCapped(t *testing.T) {
	const bombMiB = 1024
	bomb := gzipBomb(t, bombMiB)
	if len(bomb) > 4<<20 {
		t.Fatalf("the bomb is %d bytes compressed; want it small", len(bomb))
	}
	for _, tc := range []struct {
		name string
		code int
		max  int64
		want int64 // the limit the error reports
	}{
		{"success, 4 MiB cap", 200, 4 << 20, 4 << 20}, // the default's 32 MiB: TestGzipBombFailsClearly
		{"success, small cap", 200, 1 << 20, 1 << 20},
		{"error body", 502, 0, 1 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := bombServer(t, tc.code, bomb)
			f := newClient(t, httpclient.Options{MaxBodySize: tc.max, MaxAttempts: 1})
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, _, err := do(t, f.client, "GET", srv.URL+"/repos/o/r/contents/big", "")
			runtime.ReadMemStats(&after)

			var berr *httpclient.BodyTooLargeError
			if !errors.As(err, &berr) {
				t.Fatalf("error = %v, want a *BodyTooLargeError", err)
			}
			if berr.Limit != tc.want || berr.Status != tc.code || berr.Path != "/repos/o/r/contents/big" {
				t.Errorf("error = %+v, want limit %d, status %d and the path", berr, tc.want, tc.code)
			}
			if !strings.Contains(err.Error(), "after decompression") {
				t.Errorf("error %q does not say the size is measured after decompression", err)
			}
			// io.ReadAll grows its buffer up to the cap: a few times the
			// cap in total (more under the race detector), never the bomb's
			// 1 GiB.
			alloc := after.TotalAlloc - before.TotalAlloc
			if limit := uint64(8*tc.want + 16<<20); alloc > limit {
				t.Errorf("allocated %d MiB reading a %d MiB bomb with a %d MiB cap; want under %d MiB",
					alloc>>20, bombMiB, tc.want>>20, limit>>20)
			}
		})
	}
}

// TestBodyUnderCapIsWhole reads a gzip body just under the cap in full.
func TestBodyUnderCapIsWhole(t *testing.T) {
	t.Parallel()
	bomb := gzipBomb(t, 1)
	srv := bombServer(t, 200, bomb)
	f := newClient(t, httpclient.Options{MaxBodySize: 2 << 20})
	_, body, err := do(t, f.client, "GET", srv.URL, "")
	if err != nil {
		t.Fatal(err)
	}
	if want := len(`{"message":""}`) + 1<<20; len(body) != want {
		t.Errorf("read %d bytes, want %d", len(body), want)
	}
}
