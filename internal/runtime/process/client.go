package process

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// supervisorClient is the runtime's side of the supervisor's protocol
// (protocol.go). It starts the supervisor when a container is to be started
// and none answers, and holds a session connection while the runtime is
// open, so that the supervisor does not exit under it.
type supervisorClient struct {
	dir string
	log *slog.Logger

	// launching serialises starting a supervisor within this runtime.
	launching sync.Mutex

	mu      sync.Mutex
	session net.Conn
	pid     int // the supervisor's pid, as it last greeted
	closed  bool
}

// errNoSupervisor reports that no supervisor answers on the directory (or
// that none could be started).
var errNoSupervisor = errors.New("process: no supervisor")

// launchTimeout bounds how long starting a supervisor may take.
const launchTimeout = 10 * time.Second

// dial connects to the supervisor and reads its greeting.
func (c *supervisorClient) dial() (net.Conn, error) {
	conn, err := dialUnix(c.dir, supervisorSocket)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errNoSupervisor, err)
	}
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	var g greeting
	if err := readMessage(conn, frameGreeting, &g); err != nil {
		conn.Close()
		// The supervisor was exiting, or died: it did not take the
		// connection on.
		return nil, fmt.Errorf("%w: no greeting: %w", errNoSupervisor, err)
	}
	conn.SetDeadline(time.Time{})
	c.mu.Lock()
	c.pid = g.PID
	c.mu.Unlock()
	return conn, nil
}

// call sends req and returns the answer, and the connection when the answer
// opens a stream (attach); the caller closes it. With launch, a supervisor
// is started if none answers; without, the error is errNoSupervisor.
func (c *supervisorClient) call(ctx context.Context, req request, launch bool) (answer, net.Conn, error) {
	conn, err := c.dial()
	if err != nil && launch {
		if conn, err = c.launch(ctx); err != nil {
			err = fmt.Errorf("%w: cannot start one: %w", errNoSupervisor, err)
		}
	}
	if err != nil {
		return answer{}, nil, err
	}
	c.hold()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	var ans answer
	err = writeMessage(conn, frameRequest, req)
	if err == nil {
		err = readMessage(conn, frameAnswer, &ans)
	}
	if err != nil {
		conn.Close()
		if ctx.Err() != nil {
			return answer{}, nil, ctx.Err()
		}
		return answer{}, nil, fmt.Errorf("process: the supervisor did not answer %s: %w", req.Op, err)
	}
	return ans, conn, nil
}

// launch makes sure a supervisor runs, starting one if none answers, and
// returns a connection to it.
func (c *supervisorClient) launch(ctx context.Context) (net.Conn, error) {
	c.launching.Lock()
	defer c.launching.Unlock()
	ctx, cancel := context.WithTimeout(ctx, launchTimeout)
	defer cancel()
	for {
		conn, err := c.dial()
		if err == nil {
			return conn, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%w; last: %w", ctx.Err(), err)
		}
		msg, err := c.startSupervisor()
		switch {
		case err != nil:
			return nil, err
		case msg == "ok":
			c.log.Debug("process runtime: started the supervisor", "dir", c.dir)
			continue
		case msg != "busy":
			return nil, errors.New(msg)
		}
		// Another supervisor holds the directory: it is starting, or
		// exiting after being idle. Ask again.
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// startSupervisor starts a supervisor process and returns its report: "ok"
// (it listens), "busy" (another one holds the directory) or why it failed.
func (c *supervisorClient) startSupervisor() (string, error) {
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return "", err
	}
	defer readyR.Close()
	logFile, err := os.OpenFile(filepath.Join(c.dir, supervisorLog), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		readyW.Close()
		return "", err
	}
	cmd := &exec.Cmd{
		Path:       self,
		Args:       []string{"skiff-supervisor", c.dir},
		Env:        []string{HelperEnv + "=" + ModeSupervisor},
		Stdout:     logFile,
		Stderr:     logFile,
		ExtraFiles: []*os.File{readyW},
		// A session of its own: the supervisor must not share the agent's
		// terminal or process group, or their signals.
		SysProcAttr: &syscall.SysProcAttr{Setsid: true},
	}
	err = cmd.Start()
	readyW.Close()
	logFile.Close()
	if err != nil {
		return "", err
	}
	// Reap the supervisor when it ends, as long as this process lives;
	// after that, the supervisor's new parent does.
	go cmd.Wait()
	msg, _ := io.ReadAll(readyR)
	if len(msg) == 0 {
		return "", fmt.Errorf("it exited without a word: %s", logTail(filepath.Join(c.dir, supervisorLog)))
	}
	return string(msg), nil
}

// hold opens the session connection if the runtime has none.
func (c *supervisorClient) hold() {
	c.mu.Lock()
	held := c.session != nil || c.closed
	c.mu.Unlock()
	if held {
		return
	}
	conn, err := c.dial()
	if err != nil {
		return
	}
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	var ans answer
	err = writeMessage(conn, frameRequest, request{Op: opSession})
	if err == nil {
		err = readMessage(conn, frameAnswer, &ans)
	}
	conn.SetDeadline(time.Time{})
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil || c.session != nil || c.closed {
		conn.Close()
		return
	}
	c.session = conn
	go func() {
		// The supervisor never writes on a session: this returns when it
		// ends, or when close closes the connection.
		conn.Read(make([]byte, 1))
		conn.Close()
		c.mu.Lock()
		if c.session == conn {
			c.session = nil
		}
		c.mu.Unlock()
	}()
}

// close ends the session: the supervisor may exit once it has no
// containers left.
func (c *supervisorClient) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	if c.session != nil {
		c.session.Close()
		c.session = nil
	}
}

// logTail returns the end of a log file, for error messages.
func logTail(path string) string {
	data, _ := os.ReadFile(path)
	s := strings.TrimSpace(string(data))
	if len(s) > 500 {
		s = s[len(s)-500:]
	}
	if s == "" {
		return "it left no message"
	}
	return s
}
