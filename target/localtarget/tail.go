package localtarget

import (
	"github.com/fleetdeploy/fleetdeploy/target"
)

// tail keeps the last target.MaxLogTail bytes written to it. It is not safe
// for concurrent use; one goroutine writes, and it is read after that
// goroutine is done.
type tail struct {
	buf []byte
}

// Write appends p, dropping all but the last bytes once the buffer holds
// twice what is kept, so memory stays bounded whatever a script prints.
func (t *tail) Write(p []byte) (int, error) {
	const keep = target.MaxLogTail
	if len(p) >= keep {
		t.buf = append(t.buf[:0], p[len(p)-keep:]...)
		return len(p), nil
	}
	t.buf = append(t.buf, p...)
	if len(t.buf) > 2*keep {
		n := copy(t.buf, t.buf[len(t.buf)-keep:])
		t.buf = t.buf[:n]
	}
	return len(p), nil
}

// String returns the kept output, at most target.MaxLogTail bytes, cut at a
// character boundary.
func (t *tail) String() string { return target.TrimLogTail(string(t.buf)) }
