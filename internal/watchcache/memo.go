package watchcache

import "sync"

// Memo holds the encodings of one event's object, so that an event sent to
// many watchers in the same form is encoded once.
type Memo struct {
	mu sync.Mutex
	m  map[string][]byte
}

// Get returns the encoding named key, making it with encode the first time.
func (m *Memo) Get(key string, encode func() ([]byte, error)) ([]byte, error) {
	if m == nil {
		return encode()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if b, ok := m.m[key]; ok {
		return b, nil
	}
	b, err := encode()
	if err != nil {
		return nil, err
	}
	if m.m == nil {
		m.m = map[string][]byte{}
	}
	m.m[key] = b
	return b, nil
}
