package framework

// StateKey names one plugin's data in a CycleState; plugins use a key
// derived from their name.
type StateKey string

// CycleState is the scratch space of one pod's scheduling cycle. Plugins
// write it in PreFilter and PreScore, which run one at a time, and read it
// in Filter and Score, which may run concurrently for different nodes, so
// it needs no lock: every write happens before the reads start.
type CycleState struct {
	data map[StateKey]any
	// skipFilter and skipScore hold, by index into the framework's
	// filter and score lists, the plugins that returned Skip.
	skipFilter, skipScore uint64
}

// NewCycleState returns an empty state for a new cycle.
func NewCycleState() *CycleState {
	return &CycleState{data: make(map[StateKey]any, 4)}
}

// Write stores a plugin's data under key.
func (c *CycleState) Write(key StateKey, v any) { c.data[key] = v }

// Read returns the data stored under key, and whether there was any.
func (c *CycleState) Read(key StateKey) (any, bool) {
	v, ok := c.data[key]
	return v, ok
}
