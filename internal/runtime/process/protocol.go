package process

import (
	"encoding/json"
	"fmt"
	"io"
)

// The supervisor's protocol. The runtime talks to the supervisor over the
// unix socket <Dir>/supervisor.sock, one connection per request:
//
//	supervisor → runtime: greeting  {"pid":…}, as soon as it accepts
//	runtime → supervisor: request   {"op":…, …}
//	supervisor → runtime: answer    {"error":…, …}
//
// each a frame (frame.go) with a JSON payload. The greeting tells the
// runtime that the supervisor has taken the connection on: a connection
// that closes before its greeting reached a supervisor that was exiting,
// and nothing was done, so the runtime may start another supervisor and
// ask again; one that closes after it lost a supervisor that was working
// on the request.
//
// The operations:
//
//	session  keep the supervisor: it answers, then holds the connection
//	         until the runtime closes it or sends "end" on it
//	         (Runtime.Close), and does not exit while any connection is
//	         open. On "end" a supervisor with no container and no other
//	         connection answers exiting, and exits; otherwise it answers
//	         and stays.
//	start    start container <container> from its container.json; the
//	         answer comes once the command runs, or says why it could not
//	signal   send <signal> to the process group of container <container>;
//	         found says whether this supervisor runs it
//	attach   attach to container <container>'s stdio (stdin, stdout, stderr
//	         say which); after the answer the connection carries the
//	         attach frames
//
// How a container is doing is not asked over the socket: the supervisor
// records it in the container's state.json, which outlives the supervisor.
const (
	opSession = "session"
	opEnd     = "end"
	opStart   = "start"
	opSignal  = "signal"
	opAttach  = "attach"
)

// greeting is the supervisor's first frame on every connection.
type greeting struct {
	PID int `json:"pid"`
}

// request is what the runtime asks of the supervisor.
type request struct {
	Op        string `json:"op"`
	Container string `json:"container,omitempty"`
	Signal    int    `json:"signal,omitempty"`
	Stdin     bool   `json:"stdin,omitempty"`
	Stdout    bool   `json:"stdout,omitempty"`
	Stderr    bool   `json:"stderr,omitempty"`
}

// answer is the supervisor's reply to a request.
type answer struct {
	Error   string `json:"error,omitempty"`
	Found   bool   `json:"found,omitempty"`
	Exiting bool   `json:"exiting,omitempty"`
}

// writeMessage sends v as a frame of kind.
func writeMessage(w io.Writer, kind byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("process: encode message: %w", err)
	}
	return writeFrame(w, kind, data)
}

// readMessage reads a frame, which must be of kind, into v.
func readMessage(r io.Reader, kind byte, v any) error {
	got, payload, err := readFrame(r)
	if err != nil {
		return err
	}
	if got != kind {
		return fmt.Errorf("process: protocol: got a frame of kind %q, want %q", got, kind)
	}
	if err := json.Unmarshal(payload, v); err != nil {
		return fmt.Errorf("process: protocol: %w", err)
	}
	return nil
}
