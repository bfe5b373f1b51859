package process

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// Copying output. The supervisor keeps one goroutine per output stream of
// every running container, parked in Go's poller while the container is
// quiet. Such a goroutine holds no read buffer while it waits: it borrows
// one from chunks only once the stream is readable, and gives it back
// after the chunk has gone to the log and to attached clients. A hundred
// idle containers so cost their goroutines' stacks, not a hundred buffers.

// chunkSize is the most read from a stream at once.
const chunkSize = 32 << 10

var chunks = sync.Pool{New: func() any { return new([chunkSize]byte) }}

// copyOutput logs one stream and passes it to attached clients, until the
// stream ends or its file is closed.
func (t *task) copyOutput(o output) {
	defer t.copying.Done()
	var lw *lineWriter
	if t.log != nil {
		lw = &lineWriter{log: t.log, stream: o.stream}
		defer lw.Flush()
	}
	rc, err := o.r.SyscallConn()
	if err != nil {
		return
	}
	for {
		var buf *[chunkSize]byte
		var n int
		var rerr error
		err := rc.Read(func(fd uintptr) bool {
			buf = chunks.Get().(*[chunkSize]byte)
			n, rerr = syscall.Read(int(fd), buf[:])
			if errors.Is(rerr, syscall.EAGAIN) {
				chunks.Put(buf)
				return false // wait until readable
			}
			return true
		})
		if n > 0 {
			if lw != nil {
				lw.Write(buf[:n])
			}
			t.attach.broadcast(o.kind, buf[:n])
		}
		if buf != nil {
			chunks.Put(buf)
		}
		switch {
		case errors.Is(rerr, syscall.EINTR):
			continue
		case err != nil, rerr != nil, n <= 0:
			// EOF for a pipe; EIO for a terminal whose other side closed;
			// an error once the file has been closed.
			return
		}
	}
}

// openTerminal opens a terminal for a tty container. The master side, which
// the supervisor keeps, is non-blocking so that reading it parks a
// goroutine in the poller rather than an OS thread; pty.Open hands it back
// blocking.
func openTerminal() (master, slave *os.File, err error) {
	m, slave, err := pty.Open()
	if err != nil {
		return nil, nil, fmt.Errorf("process: open terminal: %w", err)
	}
	defer m.Close()
	fd, err := unix.FcntlInt(m.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err == nil {
		err = unix.SetNonblock(fd, true)
		if err != nil {
			unix.Close(fd)
		}
	}
	if err != nil {
		slave.Close()
		return nil, nil, fmt.Errorf("process: open terminal: %w", err)
	}
	// os.NewFile registers a non-blocking descriptor with the poller.
	return os.NewFile(uintptr(fd), m.Name()), slave, nil
}

// setTerminalSize resizes the terminal whose master side is f, without
// f.Fd() (which would make it blocking).
func setTerminalSize(f *os.File, cols, rows uint16) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ierr error
	err = rc.Control(func(fd uintptr) {
		ierr = unix.IoctlSetWinsize(int(fd), unix.TIOCSWINSZ, &unix.Winsize{Col: cols, Row: rows})
	})
	return errors.Join(err, ierr)
}
