package registry

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"

	"github.com/podium-ml/podium/internal/git"
)

// catFile is one `git cat-file --batch` process: every blob compare needs
// from the default branch (its spec, the pointer, the pointer's history)
// is read through it, rather than one git process per file.
type catFile struct {
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *bufio.Reader
	stderr bytes.Buffer
}

func startCatFile(ctx context.Context, repo *git.Repo) (*catFile, error) {
	cmd := exec.CommandContext(ctx, "git", "cat-file", "--batch")
	cmd.Dir = repo.Dir
	cmd.Env = append(cmd.Environ(), "GIT_TERMINAL_PROMPT=0", "LC_ALL=C")
	cmd.Env = append(cmd.Env, repo.Env...)
	c := &catFile{cmd: cmd}
	cmd.Stderr = &c.stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("failed to start git cat-file: %w", err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("failed to start git cat-file: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("failed to start git cat-file: %w", err)
	}
	c.in, c.out = in, bufio.NewReader(out)
	return c, nil
}

// get returns the contents of each object name ("<rev>:<path>"), nil for
// one that does not exist. The requests are written from a goroutine: git
// answers each before reading the next, so writing many while nobody reads
// could fill both pipes.
func (c *catFile) get(names ...string) ([][]byte, error) {
	for _, n := range names {
		if strings.ContainsAny(n, "\n\x00") {
			return nil, fmt.Errorf("cannot read %q from git: the name holds a newline or NUL", n)
		}
	}
	werr := make(chan error, 1)
	go func() {
		var buf bytes.Buffer
		for _, n := range names {
			buf.WriteString(n + "\n")
		}
		_, err := c.in.Write(buf.Bytes())
		werr <- err
	}()
	out := make([][]byte, 0, len(names))
	for range names {
		data, err := c.next()
		if err != nil {
			return nil, c.fail(err)
		}
		out = append(out, data)
	}
	if err := <-werr; err != nil {
		return nil, c.fail(err)
	}
	return out, nil
}

// next reads one answer: a header "<oid> <type> <size>" and the content,
// or "<name> missing" (or ambiguous).
func (c *catFile) next() ([]byte, error) {
	header, err := c.out.ReadString('\n')
	if err != nil {
		return nil, errors.New("truncated cat-file output")
	}
	header = strings.TrimSuffix(header, "\n")
	if strings.HasSuffix(header, " missing") || strings.HasSuffix(header, " ambiguous") {
		return nil, nil
	}
	fields := strings.Fields(header)
	if len(fields) != 3 {
		return nil, fmt.Errorf("unexpected cat-file header %q", header)
	}
	size, err := strconv.ParseInt(fields[2], 10, 64)
	if err != nil || size < 0 || size > maxBlob {
		return nil, fmt.Errorf("unexpected cat-file header %q", header)
	}
	data := make([]byte, size)
	if _, err := io.ReadFull(c.out, data); err != nil {
		return nil, errors.New("truncated cat-file output")
	}
	if b, err := c.out.ReadByte(); err != nil || b != '\n' {
		return nil, fmt.Errorf("unexpected cat-file output after %q", header)
	}
	if data == nil {
		data = []byte{}
	}
	return data, nil
}

// maxBlob bounds one object read: a spec or pointer is a few KiB, and a
// default branch is no more trusted to be sane than any other input.
const maxBlob = 64 << 20

func (c *catFile) fail(err error) error {
	if msg := strings.TrimSpace(c.stderr.String()); msg != "" {
		return fmt.Errorf("git cat-file --batch: %v: %s", err, msg)
	}
	return fmt.Errorf("git cat-file --batch: %w", err)
}

// close ends the process: git exits when its input ends.
func (c *catFile) close() {
	c.in.Close()
	_ = c.cmd.Wait()
}
