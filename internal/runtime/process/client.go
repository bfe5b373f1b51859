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
	session *session
	closed  bool
}

// errNoSupervisor reports that no supervisor answers on the directory (or
// that none could be started).
var errNoSupervisor = errors.New("process: no supervisor")

// launchTimeout bounds how long starting a supervisor may take.
const launchTimeout = 10 * time.Second

// dial connects to the supervisor and reads its greeting.
func (c *supervisorClient) dial() (net.Conn, greeting, error) {
	var g greeting
	conn, err := dialUnix(c.dir, supervisorSocket)
	if err != nil {
		return nil, g, fmt.Errorf("%w: %w", errNoSupervisor, err)
	}
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if err := readMessage(conn, frameGreeting, &g); err != nil {
		conn.Close()
		// The supervisor was exiting, or died: it did not take the
		// connection on.
		return nil, g, fmt.Errorf("%w: no greeting: %w", errNoSupervisor, err)
	}
	conn.SetDeadline(time.Time{})
	return conn, g, nil
}

// call sends req and returns the answer and the connection, which the
// caller closes (after an attach answer it carries the stream). With
// launch, a supervisor is started if none answers; without, the error is
// errNoSupervisor.
func (c *supervisorClient) call(ctx context.Context, req request, launch bool) (answer, net.Conn, error) {
	conn, _, err := c.dial()
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
		conn, _, err := c.dial()
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

// session is the runtime's held connection to the supervisor.
type session struct {
	conn  net.Conn
	pid   int         // the supervisor's
	start uint64      // its start time
	ended chan answer // the answer to "end", or none if the connection ended
}

// hold opens the session connection if the runtime has none.
func (c *supervisorClient) hold() {
	c.mu.Lock()
	held := c.session != nil || c.closed
	c.mu.Unlock()
	if held {
		return
	}
	conn, g, err := c.dial()
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
	sess := &session{conn: conn, pid: g.PID, ended: make(chan answer, 1)}
	sess.start, _, _ = procStart(sess.pid)
	c.session = sess
	go func() {
		// The supervisor writes on a session only to answer "end": this
		// returns then, or when the supervisor dies.
		var ans answer
		readMessage(conn, frameAnswer, &ans)
		sess.ended <- ans
		conn.Close()
		c.mu.Lock()
		if c.session == sess {
			c.session = nil
		}
		c.mu.Unlock()
	}()
}

// close ends the session. A supervisor left with no container and no
// other runtime exits, and close returns once it has.
func (c *supervisorClient) close() {
	c.mu.Lock()
	sess := c.session
	c.session, c.closed = nil, true
	c.mu.Unlock()
	if sess == nil {
		return
	}
	defer sess.conn.Close()
	sess.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if writeMessage(sess.conn, frameRequest, request{Op: opEnd}) != nil {
		return
	}
	var ans answer
	select {
	case ans = <-sess.ended:
	case <-time.After(5 * time.Second):
		return
	}
	for deadline := time.Now().Add(5 * time.Second); ans.Exiting && alive(sess.pid, sess.start) && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
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
