package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/dsmigrate/dsmigrate/internal/sim/iampolicy"
)

// A resource-based policy keeps the IAM users and roles it names by their unique ids:
// "When you save the policy, AWS transforms the ARN to a unique principal ID … if you
// delete the role or user, then the relationship is broken. The policy no longer
// applies, even if you recreate the user or role … the principal ID shows up … because
// AWS can no longer map it back to an ARN" (IAM User Guide, "AWS JSON policy elements:
// Principal", IAM role principals; re:Post Knowledge Center "Why is there an unknown
// principal format in my IAM resource-based policy?": AROA… for roles). The simulator
// keeps policies by ARN and, when a role is deleted, rewrites every bucket policy and
// trust policy naming it to its unique id: the id matches no caller (a role re-created
// with the name has a new id), GetBucketPolicy shows it, and a policy saved with it is
// refused as an invalid principal, as AWS refuses a principal it cannot resolve.

// forgetRoleLocked rewrites the policies naming the role arn (being deleted) to its
// unique id. Caller holds mu for writing.
func (s *Store) forgetRoleLocked(arn, id string) error {
	for _, b := range s.buckets {
		if b.policy == nil {
			continue
		}
		doc, changed, err := replacePrincipal(b.Policy, arn, id)
		if err != nil || !changed {
			if err != nil {
				return fmt.Errorf("bucket %s: %w", b.Name, err)
			}
			continue
		}
		p, err := iampolicy.Parse(doc)
		if err != nil {
			return fmt.Errorf("bucket %s: %w", b.Name, err)
		}
		b.Policy, b.policy = doc, p
	}
	for _, r := range s.roles {
		doc, changed, err := replacePrincipal(r.AssumeRolePolicyDocument, arn, id)
		if err != nil || !changed {
			if err != nil {
				return fmt.Errorf("role %s: %w", r.Arn, err)
			}
			continue
		}
		p, err := iampolicy.Parse(doc)
		if err != nil {
			return fmt.Errorf("role %s: %w", r.Arn, err)
		}
		r.AssumeRolePolicyDocument, r.trust = doc, p
	}
	return nil
}

// replacePrincipal returns doc with every "AWS" principal value equal to arn (in a
// statement's Principal or NotPrincipal) replaced by id, as compact JSON with the keys
// in their order; changed is false (and doc unchanged) when none was.
func replacePrincipal(doc, arn, id string) (string, bool, error) {
	d := json.NewDecoder(bytes.NewReader([]byte(doc)))
	d.UseNumber()
	root, err := readNode(d)
	if err != nil {
		return doc, false, err
	}
	changed := false
	swap := func(n *node) {
		if n.scalar == nil {
			for _, e := range n.elems {
				if s, ok := e.scalar.(string); ok && s == arn {
					e.scalar, changed = id, true
				}
			}
			return
		}
		if s, ok := n.scalar.(string); ok && s == arn {
			n.scalar, changed = id, true
		}
	}
	if stmts := root.get("Statement"); stmts != nil {
		list := stmts.elems
		if stmts.keys != nil {
			list = []*node{stmts}
		}
		for _, st := range list {
			for _, k := range []string{"Principal", "NotPrincipal"} {
				if p := st.get(k); p != nil {
					if aws := p.get("AWS"); aws != nil {
						swap(aws)
					}
				}
			}
		}
	}
	if !changed {
		return doc, false, nil
	}
	var buf bytes.Buffer
	if err := root.write(&buf); err != nil {
		return doc, false, err
	}
	return buf.String(), true, nil
}

// node is a JSON value that keeps the order of an object's keys.
type node struct {
	keys   []string // object (non-nil, maybe empty)
	elems  []*node  // object values by key index, or array elements
	array  bool
	scalar any // string, json.Number, bool or nil (with keys == nil and !array)
}

func (n *node) get(key string) *node {
	for i, k := range n.keys {
		if k == key {
			return n.elems[i]
		}
	}
	return nil
}

func readNode(d *json.Decoder) (*node, error) {
	tok, err := d.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			n := &node{keys: []string{}}
			for d.More() {
				kt, err := d.Token()
				if err != nil {
					return nil, err
				}
				v, err := readNode(d)
				if err != nil {
					return nil, err
				}
				n.keys = append(n.keys, kt.(string))
				n.elems = append(n.elems, v)
			}
			_, err := d.Token()
			return n, err
		case '[':
			n := &node{array: true}
			for d.More() {
				v, err := readNode(d)
				if err != nil {
					return nil, err
				}
				n.elems = append(n.elems, v)
			}
			_, err := d.Token()
			return n, err
		}
		return nil, fmt.Errorf("unexpected %v", t)
	default:
		return &node{scalar: t}, nil
	}
}

func (n *node) write(w io.Writer) error {
	enc := func(v any) error {
		var b bytes.Buffer
		e := json.NewEncoder(&b)
		e.SetEscapeHTML(false)
		if err := e.Encode(v); err != nil {
			return err
		}
		_, err := w.Write(bytes.TrimRight(b.Bytes(), "\n"))
		return err
	}
	switch {
	case n.keys != nil:
		io.WriteString(w, "{")
		for i, k := range n.keys {
			if i > 0 {
				io.WriteString(w, ",")
			}
			if err := enc(k); err != nil {
				return err
			}
			io.WriteString(w, ":")
			if err := n.elems[i].write(w); err != nil {
				return err
			}
		}
		_, err := io.WriteString(w, "}")
		return err
	case n.array:
		io.WriteString(w, "[")
		for i, e := range n.elems {
			if i > 0 {
				io.WriteString(w, ",")
			}
			if err := e.write(w); err != nil {
				return err
			}
		}
		_, err := io.WriteString(w, "]")
		return err
	}
	return enc(n.scalar)
}
