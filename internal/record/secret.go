package record

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/podium-ml/podium/internal/redact"
)

// A record is published (uploaded as a CI artifact, pushed as a git note,
// signed into a transparency log), so nothing in it may be a secret. It
// never copies the environment, but params and metric names come from the
// user's run and could carry a token by mistake; Scrub masks those.

// secretNameParts mark an environment variable as holding a secret.
var secretNameParts = []string{"TOKEN", "SECRET", "PASSWORD", "PASSWD", "KEY", "CREDENTIAL"}

// Env values shorter than minEnvSecret are ignored (KEY=1 is no secret);
// values at least containEnvSecret long are also found inside longer
// strings (a URL or header that embeds them).
const (
	minEnvSecret     = 6
	containEnvSecret = 16
)

// Scrubber finds secret-looking strings.
type Scrubber struct {
	envSecrets []string
	known      *redact.Redactor
}

// NewScrubber returns a Scrubber that also refuses the values of the
// environment variables (KEY=VALUE) whose names say they hold a secret,
// and every secret known registered (nil for none).
func NewScrubber(environ []string, known *redact.Redactor) *Scrubber {
	s := &Scrubber{known: known}
	for _, kv := range environ {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || len(strings.TrimSpace(value)) < minEnvSecret {
			continue
		}
		upper := strings.ToUpper(name)
		for _, part := range secretNameParts {
			if strings.Contains(upper, part) {
				s.envSecrets = append(s.envSecrets, strings.TrimSpace(value))
				break
			}
		}
	}
	return s
}

// Why returns why s looks like a secret, or "" when it does not. The
// reason never contains the value.
func (s *Scrubber) Why(v string) string {
	if shape := redact.TokenShape(v); shape != "" {
		return "looks like " + shape
	}
	for _, secret := range s.envSecrets {
		if v == secret || len(secret) >= containEnvSecret && strings.Contains(v, secret) {
			return "holds the value of a secret environment variable"
		}
	}
	if s.known != nil && s.known.String(v) != v {
		return "holds a secret podium uses"
	}
	return ""
}

// Finding is one masked value: where it was (a JSON pointer into the
// record) and why.
type Finding struct {
	Pointer string
	Reason  string
}

func (f Finding) String() string { return f.Pointer + ": " + f.Reason }

// formatted are the record's fields whose format (hex digests, SHAs,
// timestamps) cannot carry a token; scrubbing them could only corrupt
// them. Patterns use * for one array index.
var formatted = []string{
	"/commit/sha", "/started_at", "/finished_at", "/spec_digest", "/data_digest",
	"/artifact/digest", "/artifact/files/*/digest", "/inputs/*/digest", "/outputs/*/digest",
	"/environment/image_digest",
}

// Scrub replaces every string in the record (values and object keys) that
// looks like a secret with redact.Mask and reports where. The record
// returned is a new one; r is not changed.
func Scrub(r *Record, s *Scrubber) (*Record, []Finding, error) {
	data, err := json.Marshal(r)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to encode the record: %w", err)
	}
	var tree any
	if err := json.Unmarshal(data, &tree); err != nil {
		return nil, nil, fmt.Errorf("failed to decode the record: %w", err)
	}
	var findings []Finding
	tree = scrubValue(tree, "", s, &findings)
	if len(findings) == 0 {
		return r, nil, nil
	}
	data, err = json.Marshal(tree)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to encode the record: %w", err)
	}
	var out Record
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, nil, fmt.Errorf("failed to decode the record: %w", err)
	}
	return &out, findings, nil
}

func scrubValue(v any, ptr string, s *Scrubber, findings *[]Finding) any {
	switch x := v.(type) {
	case string:
		if isFormatted(ptr) {
			return x
		}
		if why := s.Why(x); why != "" {
			*findings = append(*findings, Finding{Pointer: ptr, Reason: why})
			return redact.Mask
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = scrubValue(e, fmt.Sprintf("%s/%d", ptr, i), s, findings)
		}
		return x
	case map[string]any:
		out := make(map[string]any, len(x))
		for _, k := range slices.Sorted(maps.Keys(x)) {
			child := ptr + "/" + escapePointer(k)
			key := k
			if why := s.Why(k); why != "" {
				*findings = append(*findings, Finding{Pointer: ptr + "/" + redact.Mask, Reason: "a key " + why})
				key = freeKey(out, redact.Mask)
				child = ptr + "/" + escapePointer(key)
			}
			out[key] = scrubValue(x[k], child, s, findings)
		}
		return out
	}
	return v
}

// freeKey returns base, or base with the first free numeric suffix, so
// that two masked keys do not collide.
func freeKey(m map[string]any, base string) string {
	if _, taken := m[base]; !taken {
		return base
	}
	for i := 2; ; i++ {
		k := fmt.Sprintf("%s%d", base, i)
		if _, taken := m[k]; !taken {
			return k
		}
	}
}

func isFormatted(ptr string) bool {
	return slices.ContainsFunc(formatted, func(pattern string) bool {
		p := strings.Split(pattern, "/")
		q := strings.Split(ptr, "/")
		if len(p) != len(q) {
			return false
		}
		for i := range p {
			if p[i] != q[i] && p[i] != "*" {
				return false
			}
		}
		return true
	})
}

func escapePointer(s string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}
