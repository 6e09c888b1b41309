package git

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
)

// Batch is one `git cat-file --batch` process: many objects read through
// one git process rather than one process per file (a process costs
// milliseconds; an object read through a running one, microseconds).
type Batch struct {
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *bufio.Reader
	stderr bytes.Buffer
	waited bool
	// limit bounds one object's size: maxBlob, lower in tests.
	limit int64
}

// StartBatch starts `git cat-file --batch` in the repository. Object names
// like "<rev>:<path>" take the path from the top of the tree, so Dir may be
// any directory of the work tree. Cancelling ctx kills the process; Close
// ends it.
func (r *Repo) StartBatch(ctx context.Context) (*Batch, error) {
	cmd := r.command(ctx, "cat-file", "--batch")
	b := &Batch{cmd: cmd, limit: maxBlob}
	cmd.Stderr = &b.stderr
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
	b.in, b.out = in, bufio.NewReader(out)
	return b, nil
}

// Get returns the contents of each object name ("<rev>:<path>",
// "<rev>^{commit}"), nil for one that does not exist. The requests are
// written from a goroutine: git answers each before reading the next, so
// writing many while nobody reads could fill both pipes.
func (b *Batch) Get(names ...string) ([][]byte, error) {
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
		_, err := b.in.Write(buf.Bytes())
		werr <- err
	}()
	out := make([][]byte, 0, len(names))
	for range names {
		data, err := b.next()
		if err != nil {
			// The writer may be blocked on a full pipe of a git that no
			// longer reads: fail closes its input, which lets it return.
			err = b.fail(err)
			<-werr
			return nil, err
		}
		out = append(out, data)
	}
	if err := <-werr; err != nil {
		return nil, b.fail(err)
	}
	return out, nil
}

// next reads one answer: a header "<oid> <type> <size>" and the content,
// or "<name> missing" (or ambiguous).
func (b *Batch) next() ([]byte, error) {
	header, err := b.out.ReadString('\n')
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
	if err != nil || size < 0 || size > b.limit {
		return nil, fmt.Errorf("unexpected cat-file header %q", header)
	}
	data := make([]byte, size)
	if _, err := io.ReadFull(b.out, data); err != nil {
		return nil, errors.New("truncated cat-file output")
	}
	if c, err := b.out.ReadByte(); err != nil || c != '\n' {
		return nil, fmt.Errorf("unexpected cat-file output after %q", header)
	}
	return data, nil
}

// maxBlob bounds one object read: a spec or pointer is a few KiB, and a
// default branch is no more trusted to be sane than any other input.
const maxBlob = 64 << 20

// fail ends the process, whose answers can no longer be trusted to line
// up with the questions, and adds what git said on stderr (complete only
// once git has exited). It kills git rather than closing its input: git
// may be blocked writing the rest of an object nobody will read (one over
// the limit), and then it never reads its input again.
func (b *Batch) fail(err error) error {
	if !b.waited {
		_ = b.cmd.Process.Kill()
	}
	b.Close()
	if msg := strings.TrimSpace(b.stderr.String()); msg != "" {
		return fmt.Errorf("git cat-file --batch: %v: %s", err, msg)
	}
	return fmt.Errorf("git cat-file --batch: %w", err)
}

// Close ends the process: git exits when its input ends.
func (b *Batch) Close() {
	if b.waited {
		return
	}
	b.waited = true
	b.in.Close()
	_ = b.cmd.Wait()
}
