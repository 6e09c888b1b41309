package spec

import (
	"fmt"
	"path"
	"strings"

	"github.com/podium-ml/podium/internal/diag"
)

// CheckGraph finds what is wrong with the pipeline's steps as a graph (see
// checkGraph). Load runs it with every other check; the pipeline runs it
// again for a Spec built in code, so both say the same thing. Its problems
// name the spec's file and the field, without a line: a Spec keeps no
// positions.
func CheckGraph(s *Spec) error {
	var list diag.List
	for _, p := range checkGraph(s.Pipeline) {
		list = append(list, &diag.Error{File: s.File, Field: fieldPath(p.ptr), Msg: p.msg})
	}
	return list.Err()
}

// checkGraph finds duplicate step names, needs that name no step or the
// step itself, and a dependency cycle. On a graph without those it finds
// the races: a step reading a path another step writes without needing
// it, and two steps writing the same path when neither needs the other.
func checkGraph(steps []Step) []problem {
	c := &checker{}
	index := map[string]int{}
	names := make([]string, 0, len(steps))
	for i, st := range steps {
		names = append(names, st.Name)
		if j, dup := index[st.Name]; dup {
			c.add(fmt.Sprintf("/pipeline/%d/name", i), "duplicate step name %q (also pipeline[%d])", st.Name, j)
			continue
		}
		index[st.Name] = i
	}
	for i, st := range steps {
		for j, need := range st.Needs {
			ptr := fmt.Sprintf("/pipeline/%d/needs/%d", i, j)
			switch _, ok := index[need]; {
			case need == st.Name:
				c.add(ptr, "step %q cannot need itself", need)
			case !ok:
				msg := fmt.Sprintf("unknown step %q", need)
				if sug := suggest(need, names); sug != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", sug)
				}
				c.add(ptr, "%s", msg)
			}
		}
	}
	if cyc := findCycle(steps, index); len(cyc) > 0 {
		c.add(fmt.Sprintf("/pipeline/%d/needs", index[cyc[0]]), "dependency cycle: %s", strings.Join(cyc, " -> "))
	}
	if len(c.probs) > 0 {
		// Which step comes first is not known yet.
		return c.probs
	}
	c.races(steps, ancestors(steps, index))
	return c.probs
}

// races finds a step reading what another writes without needing it, and
// two steps writing the same path with no order between them; anc[i][k]
// says step i depends on step k, directly or not.
func (c *checker) races(steps []Step, anc []map[int]bool) {
	for i, st := range steps {
		for j, in := range st.Inputs {
			for k := range steps {
				if k != i && !anc[i][k] && writes(steps[k], in) {
					c.add(fmt.Sprintf("/pipeline/%d/inputs/%d", i, j),
						"step %q reads %q, which step %q writes, but does not need %q (add it to needs)",
						st.Name, in, steps[k].Name, steps[k].Name)
				}
			}
		}
		for j, out := range st.Outputs {
			for k := range i {
				if !anc[i][k] && !anc[k][i] && writes(steps[k], out) {
					c.add(fmt.Sprintf("/pipeline/%d/outputs/%d", i, j),
						"step %q writes %q, which step %q writes too, and neither needs the other (they would race: add one to the other's needs)",
						st.Name, out, steps[k].Name)
				}
			}
		}
	}
}

// writes reports whether an output of st is p, holds p or lies inside p.
// Paths that are not local are left to the path checks.
func writes(st Step, p string) bool {
	if localPathProblem(p) != "" {
		return false
	}
	p = path.Clean(p)
	for _, o := range st.Outputs {
		if localPathProblem(o) != "" {
			continue
		}
		c := path.Clean(o)
		if p == c || p == "." || c == "." || strings.HasPrefix(p, c+"/") || strings.HasPrefix(c, p+"/") {
			return true
		}
	}
	return false
}

// ancestors returns, for each step, every step it depends on directly or
// not. The graph must have no cycle and no unknown needs.
func ancestors(steps []Step, index map[string]int) []map[int]bool {
	anc := make([]map[int]bool, len(steps))
	var visit func(i int) map[int]bool
	visit = func(i int) map[int]bool {
		if anc[i] != nil {
			return anc[i]
		}
		set := map[int]bool{}
		for _, need := range steps[i].Needs {
			j := index[need]
			set[j] = true
			for k := range visit(j) {
				set[k] = true
			}
		}
		anc[i] = set
		return set
	}
	for i := range steps {
		visit(i)
	}
	return anc
}

// findCycle returns the steps of one dependency cycle, first step repeated
// at the end, or nil.
func findCycle(steps []Step, index map[string]int) []string {
	const (
		unvisited = iota
		active
		done
	)
	state := make([]int, len(steps))
	var stack []string
	var cycle []string
	var visit func(i int) bool
	visit = func(i int) bool {
		state[i] = active
		stack = append(stack, steps[i].Name)
		for _, need := range steps[i].Needs {
			j, ok := index[need]
			if !ok || need == steps[i].Name {
				continue
			}
			switch state[j] {
			case active:
				for k, name := range stack {
					if name == need {
						cycle = append(append([]string{}, stack[k:]...), need)
						return true
					}
				}
			case unvisited:
				if visit(j) {
					return true
				}
			}
		}
		stack = stack[:len(stack)-1]
		state[i] = done
		return false
	}
	for i := range steps {
		if state[i] == unvisited && visit(i) {
			return cycle
		}
	}
	return nil
}
