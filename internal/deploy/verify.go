package deploy

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// verify parses the patched manifest and checks that it holds the same
// documents as the original, node for node and comment for comment, except
// that t's scalar is now the string value.
func verify(out []byte, orig []*yaml.Node, t *target, value string) error {
	docs, err := decodeNodes(out)
	if err != nil {
		return fmt.Errorf("the result does not parse: %w", err)
	}
	if len(docs) != len(orig) {
		return fmt.Errorf("the result has %d documents instead of %d", len(docs), len(orig))
	}
	for i := range orig {
		if err := sameNode(orig[i], docs[i], t.node, value); err != nil {
			return err
		}
	}
	return nil
}

func sameNode(a, b, target *yaml.Node, value string) error {
	if a == target {
		switch {
		case b.Kind != yaml.ScalarNode:
			return fmt.Errorf("the value became a %s", kindNames[b.Kind])
		case b.Value != value:
			return fmt.Errorf("the value reads back as %q", b.Value)
		case b.ShortTag() != "!!str":
			return fmt.Errorf("the value reads back as %s, not a string", b.ShortTag())
		case b.Anchor != a.Anchor:
			return fmt.Errorf("the value's anchor changed")
		}
		return sameComments(a, b)
	}
	switch {
	case a.Kind != b.Kind:
		return fmt.Errorf("line %d: a %s became a %s", a.Line, kindNames[a.Kind], kindNames[b.Kind])
	case a.ShortTag() != b.ShortTag(), a.Value != b.Value, a.Anchor != b.Anchor, a.Style != b.Style:
		return fmt.Errorf("line %d: %q changed", a.Line, a.Value)
	case len(a.Content) != len(b.Content):
		return fmt.Errorf("line %d: a %s changed its number of items", a.Line, kindNames[a.Kind])
	}
	if err := sameComments(a, b); err != nil {
		return err
	}
	for i := range a.Content {
		if err := sameNode(a.Content[i], b.Content[i], target, value); err != nil {
			return err
		}
	}
	return nil
}

func sameComments(a, b *yaml.Node) error {
	if a.HeadComment != b.HeadComment || a.LineComment != b.LineComment || a.FootComment != b.FootComment {
		return fmt.Errorf("line %d: a comment moved", a.Line)
	}
	return nil
}
