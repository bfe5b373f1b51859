package envvars

import "strings"

// Expand replaces each $(NAME) in s with the value lookup returns for NAME,
// with the kubelet's rules for env values, commands and args:
//
//   - $$ is an escaped $: "$$(A)" becomes the literal "$(A)";
//   - a reference whose name lookup does not know stays as written, "$(A)";
//   - a $ that starts neither form is kept, and so is an unclosed "$(".
//
// Expansion is not recursive: a value that contains $(B) is not expanded
// again.
func Expand(s string, lookup func(name string) (string, bool)) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch next := s[i+1]; next {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				// Unclosed: keep "$(" and go on scanning after it.
				b.WriteString("$(")
				i++
				continue
			}
			name := s[i+2 : i+2+end]
			if v, ok := lookup(name); ok {
				b.WriteString(v)
			} else {
				b.WriteString("$(" + name + ")")
			}
			i += 2 + end
		default:
			b.WriteByte('$')
			b.WriteByte(next)
			i++
		}
	}
	return b.String()
}
