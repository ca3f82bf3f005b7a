//go:build race

package mask

// The race detector makes sync.Pool drop items, so pooled scratch buffers
// are reallocated and allocation counts mean nothing.
const raceEnabled = true
