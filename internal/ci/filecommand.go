package ci

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
)

// GitHub file commands (GITHUB_OUTPUT, GITHUB_ENV) are appended as
//
//	name<<delimiter
//	value
//	delimiter
//
// go-githubactions uses one fixed delimiter and never checks the value, so
// a value holding that delimiter on a line of its own ends the heredoc early
// and whatever follows becomes extra outputs or environment variables. As
// GitHub's own toolkit does, podium picks a random delimiter for every write
// and refuses a value (or name) that contains it.

// delimiterPrefix is the prefix GitHub's toolkit uses for its delimiters.
const delimiterPrefix = "ghadelimiter_"

// randomDelimiter returns "ghadelimiter_" and a random UUID-shaped suffix.
func randomDelimiter() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand does not fail on supported platforms.
		panic(fmt.Sprintf("failed to read random bytes: %v", err))
	}
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	h := hex.EncodeToString(b[:])
	return delimiterPrefix + h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// outputName is what podium accepts as an output or variable name. The
// runner reads a line as `name=value` when "=" comes before "<<", so a name
// with "=" (or a newline) would turn the value's lines into extra outputs;
// names are podium's own snake_case identifiers, so be strict.
var outputName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`) })

func checkOutputName(name string) error {
	if !outputName().MatchString(name) {
		return fmt.Errorf("invalid output name %q: use letters, digits, '_' and '-', starting with a letter or '_'", name)
	}
	return nil
}

// formatFileCommand renders one heredoc entry, or refuses it when the name
// or the value contains the delimiter.
func formatFileCommand(name, value, delimiter string) (string, error) {
	if err := checkOutputName(name); err != nil {
		return "", err
	}
	if strings.Contains(name, delimiter) {
		return "", fmt.Errorf("unexpected input: name should not contain the delimiter %q", delimiter)
	}
	if strings.Contains(value, delimiter) {
		return "", fmt.Errorf("unexpected input: value of %q should not contain the delimiter %q", name, delimiter)
	}
	return name + "<<" + delimiter + "\n" + value + "\n" + delimiter + "\n", nil
}

// appendFile appends data to path in one write, creating it if needed.
func appendFile(path, data string) (err error) {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	_, err = f.WriteString(data)
	return err
}

// ParseFileCommands parses a GITHUB_OUTPUT or GITHUB_ENV file the way the
// Actions runner does (SetOutputFileCommand / SetEnvFileCommand): each
// non-empty line is `name=value`, or `name<<delimiter` followed by the value
// lines and a line equal to the delimiter. Later entries replace earlier
// ones. Tests use it to check that what podium wrote parses back exactly.
func ParseFileCommands(data string) (map[string]string, error) {
	out := make(map[string]string)
	text := data
	index := 0
	for {
		line, _, ok := readLine(text, &index)
		if !ok {
			return out, nil
		}
		if line == "" {
			continue
		}
		eq := strings.Index(line, "=")
		heredoc := strings.Index(line, "<<")
		switch {
		case eq >= 0 && (heredoc < 0 || eq < heredoc):
			key, value, _ := strings.Cut(line, "=")
			if key == "" {
				return nil, fmt.Errorf("invalid format %q: name must not be empty", line)
			}
			out[key] = value
		case heredoc >= 0:
			key, delimiter, _ := strings.Cut(line, "<<")
			if key == "" || delimiter == "" {
				return nil, fmt.Errorf("invalid format %q: name and delimiter must not be empty", line)
			}
			start, end := index, index
			for {
				l, newline, ok := readLine(text, &index)
				if !ok {
					return nil, fmt.Errorf("invalid value: matching delimiter not found %q", delimiter)
				}
				if l == delimiter {
					break
				}
				if newline == "" {
					return nil, errors.New("invalid value: EOF marker missing new line")
				}
				end = index - len(newline)
			}
			out[key] = text[start:end]
		default:
			return nil, fmt.Errorf("invalid format %q", line)
		}
	}
}

// readLine returns the line at *index without its "\n" and advances past
// it; newline is "" for a last line with no terminator. ok is false at the
// end of text. Only "\n" ends a line, as on the Linux runners that run
// container actions.
func readLine(text string, index *int) (line, newline string, ok bool) {
	if *index >= len(text) {
		return "", "", false
	}
	start := *index
	lf := strings.IndexByte(text[start:], '\n')
	if lf < 0 {
		*index = len(text)
		return text[start:], "", true
	}
	*index = start + lf + 1
	return text[start : start+lf], "\n", true
}
