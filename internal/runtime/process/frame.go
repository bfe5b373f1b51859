package process

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// Frames. Everything on a connection to the supervisor's socket is a
// frame: a kind byte, a 4-byte big-endian length and the payload. See
// protocol.go for the conversation; an attach connection then carries:
//
//	runtime → supervisor: stdin data, stdin closed, resize (2+2 bytes:
//	                      columns, rows)
//	supervisor → runtime: stdout data, stderr data, exit (the container
//	                      ended)
const (
	frameGreeting   = 'g'
	frameRequest    = 'q'
	frameAnswer     = 'a'
	frameStdin      = 'i'
	frameCloseStdin = 'c'
	frameResize     = 'r'
	frameStdout     = 'o'
	frameStderr     = 'e'
	frameExit       = 'x'
)

// maxFrame bounds a frame's payload.
const maxFrame = 1 << 20

func writeFrame(w io.Writer, kind byte, payload []byte) error {
	var hdr [5]byte
	hdr[0] = kind
	binary.BigEndian.PutUint32(hdr[1:], uint32(len(payload)))
	if _, err := w.Write(append(hdr[:], payload...)); err != nil {
		return err
	}
	return nil
}

func readFrame(r io.Reader) (byte, []byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[1:])
	if n > maxFrame {
		return 0, nil, fmt.Errorf("process: frame of %d bytes is too large", n)
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		return 0, nil, err
	}
	return hdr[0], payload, nil
}

// A unix socket path is limited to 107 bytes, and a state directory can be
// deeper than that. Going through /proc/self/fd/<fd of the directory> keeps
// the path short whatever the directory.

// listenUnix listens on the socket name in dir.
func listenUnix(dir, name string) (*net.UnixListener, error) {
	var l *net.UnixListener
	err := inDir(dir, func(short string) error {
		var err error
		l, err = net.ListenUnix("unix", &net.UnixAddr{Name: filepath.Join(short, name), Net: "unix"})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("process: listen on %s: %w", filepath.Join(dir, name), err)
	}
	// The short path means nothing once the directory's fd is closed; the
	// owner removes the socket by its real path.
	l.SetUnlinkOnClose(false)
	return l, nil
}

// dialUnix connects to the socket name in dir.
func dialUnix(dir, name string) (net.Conn, error) {
	var c net.Conn
	err := inDir(dir, func(short string) error {
		var err error
		c, err = net.Dial("unix", filepath.Join(short, name))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("process: connect to %s: %w", filepath.Join(dir, name), err)
	}
	return c, nil
}

// inDir calls fn with a short path that names dir while fn runs.
func inDir(dir string, fn func(short string) error) error {
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: dir, Err: err}
	}
	defer unix.Close(fd)
	return fn("/proc/self/fd/" + strconv.Itoa(fd))
}
