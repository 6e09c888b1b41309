package registry

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/podium-ml/podium/internal/gittest"
)

func writePointer(t *testing.T, dir string, p *Pointer) {
	t.Helper()
	data, err := Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	gittest.WriteFile(t, dir, ".podium/registry/"+p.Model+".json", string(data))
}

// upstream makes the repository CI clones: two champions on main, then a
// branch "pr" that edits the pointer to a weak champion of its own.
func upstream(t *testing.T) string {
	t.Helper()
	dir := gittest.Init(t)
	gittest.WriteFile(t, dir, "podium.yaml", "version: 1\nmodel: iris\n")
	writePointer(t, dir, testPointer("v1", 0.91))
	gittest.Commit(t, dir, "promote iris v1")
	writePointer(t, dir, testPointer("v2", 0.925))
	gittest.Commit(t, dir, "promote iris v2")
	gittest.Git(t, dir, "checkout", "-q", "-b", "pr")
	writePointer(t, dir, testPointer("pr-edit", 0.1))
	gittest.Commit(t, dir, "lower the bar")
	gittest.Git(t, dir, "checkout", "-q", "main")
	return dir
}

func openGit(t *testing.T, dir, branch string) *Git {
	t.Helper()
	g, err := OpenGit(t.Context(), dir, ".podium/registry", branch)
	if err != nil {
		t.Fatal(err)
	}
	g.Repo.Env = gittest.Env
	return g
}

func champion(t *testing.T, g *Git) *Champion {
	t.Helper()
	c, err := g.Champion(t.Context(), "iris")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestChampionFromDefaultBranchInFullClone(t *testing.T) {
	t.Parallel()
	up := upstream(t)
	clone := t.TempDir()
	gittest.Git(t, clone, "clone", "-q", "--branch", "pr", up, ".")

	c := champion(t, openGit(t, clone, ""))
	if c.Pointer == nil || c.Pointer.Version != "v2" {
		t.Fatalf("champion = %+v, want v2 from origin/main", c.Pointer)
	}
	if c.Source != "origin/main" || len(c.Warnings) != 0 {
		t.Errorf("source = %q, warnings = %q", c.Source, c.Warnings)
	}
}

// TestChampionFetchesInShallowClone is what actions/checkout does: one
// commit of the PR branch, no origin/main. The registry must fetch main
// rather than read the PR's own (edited) pointer.
func TestChampionFetchesInShallowClone(t *testing.T) {
	t.Parallel()
	up := upstream(t)
	clone := t.TempDir()
	gittest.Git(t, clone, "clone", "-q", "--depth=1", "--branch", "pr", "file://"+up, ".")
	if out := gittest.Git(t, clone, "branch", "-r"); strings.Contains(out, "origin/main") {
		t.Fatalf("the clone already has origin/main:\n%s", out)
	}

	g := openGit(t, clone, "main")
	c := champion(t, g)
	if c.Pointer == nil || c.Pointer.Version != "v2" {
		t.Fatalf("champion = %+v, want v2 from the fetched origin/main", c.Pointer)
	}
	if c.Source != "origin/main" || len(c.Warnings) != 0 {
		t.Errorf("source = %q, warnings = %q", c.Source, c.Warnings)
	}
	if shallow := gittest.Git(t, clone, "rev-parse", "--is-shallow-repository"); shallow != "true" {
		t.Errorf("the fetch deepened the clone: is-shallow = %s", shallow)
	}
	// The PR's own copy is untouched and was not used.
	data, err := os.ReadFile(filepath.Join(clone, ".podium/registry/iris.json"))
	if err != nil || !strings.Contains(string(data), `"pr-edit"`) {
		t.Errorf("working tree pointer = %s, %v", data, err)
	}

	// History on a shallow fetch holds only the fetched commit.
	entries, err := g.History(t.Context(), "iris", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Pointer == nil || entries[0].Pointer.Version != "v2" {
		t.Errorf("history = %+v", entries)
	}
}

func TestChampionFallsBackToWorkingTreeWithWarning(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(t *testing.T) string
		want  string
	}{
		{
			name: "no remote",
			setup: func(t *testing.T) string {
				dir := gittest.Init(t)
				gittest.Git(t, dir, "checkout", "-q", "-b", "feature")
				writePointer(t, dir, testPointer("local", 0.5))
				return dir
			},
			want: `origin/main is missing and the repository has no remote "origin"`,
		},
		{
			name: "remote without the branch",
			setup: func(t *testing.T) string {
				up := upstream(t)
				clone := t.TempDir()
				gittest.Git(t, clone, "clone", "-q", "--depth=1", "--branch", "pr", "file://"+up, ".")
				gittest.Git(t, up, "branch", "-q", "-m", "main", "trunk")
				writePointer(t, clone, testPointer("local", 0.5))
				return clone
			},
			want: "origin/main is missing and fetching it failed: git fetch --quiet --no-tags --depth=1 origin +refs/heads/main:refs/remotes/origin/main: fatal: couldn't find remote ref refs/heads/main",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := champion(t, openGit(t, tt.setup(t), "main"))
			if c.Pointer == nil || c.Pointer.Version != "local" || c.Source != "working tree" {
				t.Fatalf("champion = %+v from %q, want the working tree's", c.Pointer, c.Source)
			}
			want := []string{"THE CHAMPION WAS READ FROM THE WORKING TREE, which this change can edit, not from the default branch: " +
				tt.want + ". Do not trust this comparison until it runs where the default branch can be fetched."}
			if diff := cmp.Diff(want, c.Warnings); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestChampionNone(t *testing.T) {
	t.Parallel()
	up := upstream(t)
	clone := t.TempDir()
	gittest.Git(t, clone, "clone", "-q", up, ".")
	g := openGit(t, clone, "")
	c, err := g.Champion(t.Context(), "other-model")
	if err != nil {
		t.Fatal(err)
	}
	if c.Pointer != nil || c.Path != ".podium/registry/other-model.json" {
		t.Errorf("champion = %+v", c)
	}
}

func TestChampionModelMismatch(t *testing.T) {
	t.Parallel()
	dir := gittest.Init(t)
	data, _ := Marshal(testPointer("v1", 0.9))
	gittest.WriteFile(t, dir, ".podium/registry/other.json", string(data))
	gittest.Commit(t, dir, "copy")
	gittest.Git(t, dir, "update-ref", "refs/remotes/origin/main", "HEAD")
	_, err := openGit(t, dir, "main").Champion(t.Context(), "other")
	want := `the git registry needs a git repository at origin/main:.podium/registry/other.json: the pointer names model "iris", not "other"`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
}

func TestHistory(t *testing.T) {
	t.Parallel()
	up := upstream(t)
	// A corrupt version and a deletion are part of history too.
	gittest.WriteFile(t, up, ".podium/registry/iris.json", "{not json")
	gittest.Commit(t, up, "break it")
	writePointer(t, up, testPointer("v3", 0.94))
	gittest.Commit(t, up, "promote iris v3\n\nbody with | pipes")
	clone := t.TempDir()
	gittest.Git(t, clone, "clone", "-q", "--branch", "pr", up, ".")

	g := openGit(t, clone, "")
	entries, err := g.History(t.Context(), "iris", 0)
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ Subject, Version, Problem string }
	var got []row
	for _, e := range entries {
		r := row{Subject: e.Subject, Problem: e.Problem}
		if e.Pointer != nil {
			r.Version = e.Pointer.Version
		}
		if len(e.Commit) != 40 || e.Date.IsZero() {
			t.Errorf("entry %+v lacks commit or date", e)
		}
		got = append(got, r)
	}
	want := []row{
		{Subject: "promote iris v3", Version: "v3"},
		{Subject: "break it", Problem: entries[1].Commit[:12] + ":.podium/registry/iris.json:1:2: invalid character 'n' [json]"},
		{Subject: "promote iris v2", Version: "v2"},
		{Subject: "promote iris v1", Version: "v1"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}

	limited, err := g.History(t.Context(), "iris", 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(limited) != 2 {
		t.Errorf("History(limit 2) returned %d entries", len(limited))
	}
}

func TestHistoryEmptyRepository(t *testing.T) {
	t.Parallel()
	entries, err := openGit(t, gittest.Init(t), "main").History(t.Context(), "iris", 0)
	if err != nil || entries != nil {
		t.Errorf("History = %v, %v; want nothing", entries, err)
	}
}

func TestPropose(t *testing.T) {
	t.Parallel()
	g := openGit(t, gittest.Init(t), "main")
	p := testPointer("v4", 0.95)
	ch, err := g.Propose(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := Marshal(p)
	if ch.Path != ".podium/registry/iris.json" || string(ch.Content) != string(want) {
		t.Errorf("change = %s %s", ch.Path, ch.Content)
	}
	p.Model = "../escape"
	if _, err := g.Propose(context.Background(), p); err == nil {
		t.Error("Propose accepted a model name that leaves the registry")
	}
}

func TestOpenGitResolvesRegistryDir(t *testing.T) {
	t.Parallel()
	dir := gittest.Init(t)
	sub := filepath.Join(dir, "models", "iris")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	g, err := OpenGit(t.Context(), sub, ".podium/registry", "")
	if err != nil {
		t.Fatal(err)
	}
	if g.Dir != "models/iris/.podium/registry" {
		t.Errorf("Dir = %q", g.Dir)
	}
	if _, err := OpenGit(t.Context(), sub, "../../../outside", ""); err == nil {
		t.Error("OpenGit accepted a registry outside the repository")
	}
	if _, err := OpenGit(t.Context(), t.TempDir(), ".podium/registry", ""); err == nil {
		t.Error("OpenGit accepted a directory outside any repository")
	}
}
