package scmtest

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/podium-ml/podium/internal/gittest"
)

// objectWriter writes blobs (git hash-object -w --stdin-paths) and trees
// (git mktree --batch) through two long-lived processes, started on first
// use.
type objectWriter struct {
	dir, tmp string

	mu    sync.Mutex
	seq   int
	hash  *pipeProc
	trees *pipeProc
}

// pipeProc is a git process fed lines on stdin that answers one line each.
type pipeProc struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

func startPipe(dir string, args ...string) (*pipeProc, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), gittest.Env...)
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("failed to start git %s: %w", args[0], err)
	}
	return &pipeProc{cmd: cmd, in: in, out: bufio.NewReader(out)}, nil
}

// ask writes input and reads one answer line.
func (p *pipeProc) ask(input string) (string, error) {
	if _, err := io.WriteString(p.in, input); err != nil {
		return "", err
	}
	line, err := p.out.ReadString('\n')
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(line), nil
}

func (p *pipeProc) close() {
	if p != nil {
		p.in.Close()
		p.cmd.Wait()
	}
}

// blob writes content as a blob and returns its id.
func (w *objectWriter) blob(content []byte) (string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.hash == nil {
		p, err := startPipe(w.dir, "hash-object", "-w", "--no-filters", "--stdin-paths")
		if err != nil {
			return "", err
		}
		w.hash = p
	}
	w.seq++
	path := filepath.Join(w.tmp, fmt.Sprintf("blob-%d", w.seq))
	if err := os.WriteFile(path, content, 0o600); err != nil {
		return "", err
	}
	defer os.Remove(path)
	sha, err := w.hash.ask(path + "\n")
	if err != nil || !isHex(sha) {
		w.hash.close()
		w.hash = nil // start afresh next time
		return "", fmt.Errorf("%w: git hash-object failed: %q, %v", errGit, sha, err)
	}
	return sha, nil
}

// mktree writes a tree of entries (by name) and returns its id.
func (w *objectWriter) mktree(entries map[string]treeEntry) (string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.trees == nil {
		p, err := startPipe(w.dir, "mktree", "--batch")
		if err != nil {
			return "", err
		}
		w.trees = p
	}
	names := make([]string, 0, len(entries))
	for name := range entries {
		names = append(names, name)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, name := range names {
		e := entries[name]
		fmt.Fprintf(&b, "%s %s %s\t%s\n", e.mode, e.typ, e.sha, name)
	}
	b.WriteString("\n")
	sha, err := w.trees.ask(b.String())
	if err != nil || !isHex(sha) {
		w.trees.close()
		w.trees = nil // a bad entry ends mktree: start afresh next time
		return "", fmt.Errorf("%w: git mktree failed: %q, %v", errGit, sha, err)
	}
	return sha, nil
}

func (w *objectWriter) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.hash.close()
	w.trees.close()
}
