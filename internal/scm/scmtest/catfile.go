package scmtest

import (
	"bufio"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"sync"
)

// catFile is a running `git cat-file --batch`: it answers object lookups
// (any revision expression: a ref, a SHA, rev:path, rev^{commit}) without
// a process per lookup.
type catFile struct {
	mu  sync.Mutex
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

func startCatFile(dir string) (*catFile, error) {
	p, err := startPipe(dir, "cat-file", "--batch")
	if err != nil {
		return nil, err
	}
	return &catFile{cmd: p.cmd, in: p.in, out: p.out}, nil
}

// read returns the full SHA, type and content of the object rev names;
// the type is "" when there is no such object.
func (c *catFile) read(rev string) (sha, typ string, data []byte) {
	if rev == "" || strings.ContainsAny(rev, "\r\n") {
		return "", "", nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := fmt.Fprintf(c.in, "%s\n", rev); err != nil {
		return "", "", nil
	}
	line, err := c.out.ReadString('\n')
	if err != nil {
		return "", "", nil
	}
	// "<sha> <type> <size>", or "<rev> missing" (rev may hold spaces).
	fields := strings.Fields(line)
	if len(fields) != 3 || !isHex(fields[0]) {
		return "", "", nil
	}
	size, err := strconv.Atoi(fields[2])
	if err != nil {
		return "", "", nil
	}
	buf := make([]byte, size+1) // the content and a newline
	if _, err := io.ReadFull(c.out, buf); err != nil {
		return "", "", nil
	}
	return fields[0], fields[1], buf[:size]
}

// info is read without the content.
func (c *catFile) info(rev string) (sha, typ string, size int) {
	sha, typ, data := c.read(rev)
	return sha, typ, len(data)
}

func (c *catFile) close() {
	c.in.Close()
	c.cmd.Wait()
}
