package process

import (
	"encoding/binary"
	"net"
	"os"
	"sync"
	"time"
)

// attachServer serves attach connections to one container: its
// supervisor hands it each connection once the attach request has been
// answered.
type attachServer struct {
	stdinOnce bool
	tty       *os.File // the terminal's master side, for resizes; nil without a tty

	stdinMu sync.Mutex
	stdin   *os.File // the command's stdin; nil without one or once closed

	mu       sync.Mutex
	clients  map[*attachClient]struct{}
	finished bool
	writers  sync.WaitGroup
}

// attachClient is one attached connection.
type attachClient struct {
	conn net.Conn
	req  request // which streams it wants
	out  chan outFrame
}

type outFrame struct {
	kind byte
	data []byte
}

// serve attaches conn to the container's streams that req asks for, until
// the client goes away or the container ends.
func (a *attachServer) serve(conn net.Conn, req request) {
	c := &attachClient{conn: conn, req: req, out: make(chan outFrame, 64)}
	a.mu.Lock()
	if a.finished {
		a.mu.Unlock()
		writeFrame(conn, frameExit, nil)
		return
	}
	if a.clients == nil {
		a.clients = map[*attachClient]struct{}{}
	}
	a.clients[c] = struct{}{}
	a.writers.Add(1)
	a.mu.Unlock()
	go a.write(c)

	for {
		kind, payload, err := readFrame(conn)
		if err != nil {
			break
		}
		switch kind {
		case frameStdin:
			if req.Stdin {
				a.writeStdin(payload)
			}
		case frameCloseStdin:
			if req.Stdin && a.stdinOnce {
				a.closeStdin()
			}
		case frameResize:
			if a.tty != nil && len(payload) == 4 {
				setTerminalSize(a.tty, binary.BigEndian.Uint16(payload[0:2]), binary.BigEndian.Uint16(payload[2:4]))
			}
		}
	}
	// The client went away. With stdinOnce, its session was the one.
	if req.Stdin && a.stdinOnce {
		a.closeStdin()
	}
	a.drop(c)
}

// write sends c its frames; when the container has ended it sends exit.
func (a *attachServer) write(c *attachClient) {
	defer a.writers.Done()
	for f := range c.out {
		if err := writeFrame(c.conn, f.kind, f.data); err != nil {
			c.conn.Close()
			for range c.out {
			}
			return
		}
	}
	// out is closed: by finish (say so) or by drop (just go).
	a.mu.Lock()
	finished := a.finished
	a.mu.Unlock()
	if finished {
		writeFrame(c.conn, frameExit, nil)
	}
	c.conn.Close()
}

// broadcast passes output of one stream to the clients that want it. A
// client too slow to keep up is disconnected rather than slowing the
// command (whose output still reaches the log).
func (a *attachServer) broadcast(kind byte, data []byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.clients) == 0 {
		return
	}
	f := outFrame{kind: kind, data: append([]byte(nil), data...)}
	for c := range a.clients {
		if (kind == frameStdout && !c.req.Stdout) || (kind == frameStderr && !c.req.Stderr) {
			continue
		}
		select {
		case c.out <- f:
		default:
			delete(a.clients, c)
			close(c.out)
		}
	}
}

// drop forgets a client that disconnected.
func (a *attachServer) drop(c *attachClient) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.clients[c]; ok {
		delete(a.clients, c)
		close(c.out)
	}
}

// finish tells every client that the container ended, and waits (briefly)
// until they have been told.
func (a *attachServer) finish() {
	a.mu.Lock()
	a.finished = true
	for c := range a.clients {
		close(c.out)
	}
	clear(a.clients)
	a.mu.Unlock()
	waitTimeout(&a.writers, time.Second)
}

func (a *attachServer) writeStdin(data []byte) {
	a.stdinMu.Lock()
	defer a.stdinMu.Unlock()
	if a.stdin != nil {
		a.stdin.Write(data)
	}
}

func (a *attachServer) closeStdin() {
	a.stdinMu.Lock()
	defer a.stdinMu.Unlock()
	// A terminal's master side carries the output too: closing it would
	// cut the log, so a tty's stdin ends with an end-of-file character.
	if a.stdin != nil && a.stdin == a.tty {
		a.stdin.Write([]byte{4})
	} else if a.stdin != nil {
		a.stdin.Close()
	}
	a.stdin = nil
}
