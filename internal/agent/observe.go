package agent

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"skiff.dev/internal/runtime"
)

// Limits on termination messages, the kubelet's.
const (
	maxTerminationMessage    = 4096
	maxTerminationLogLines   = 80
	maxTerminationLogMessage = 2048
)

// observe reads what the runtime has for the worker's pod: its sandboxes
// (with the IPs of ready ones) and its containers with their statuses,
// newest first. Exited containers get their termination message.
func (a *Agent) observe(ctx context.Context, w *worker) (*podState, error) {
	s, err := a.listPod(ctx, w.uid)
	if err != nil {
		return nil, err
	}
	pod, _ := w.snapshot()
	for i := range s.Containers {
		c := &s.Containers[i]
		if c.State != stateExited {
			continue
		}
		msg, ok := w.messages[c.ID]
		if !ok {
			msg = w.terminationMessage(pod, c)
			w.messages[c.ID] = msg
		}
		if msg != "" {
			c.Message = msg
		}
	}
	return s, nil
}

// listPod lists one pod's sandboxes and containers in the runtime.
func (a *Agent) listPod(ctx context.Context, uid types.UID) (*podState, error) {
	sel := map[string]string{runtime.LabelPodUID: string(uid)}
	sbs, err := a.rt.ListPodSandbox(ctx, &runtimeapi.PodSandboxFilter{LabelSelector: sel})
	if err != nil {
		return nil, fmt.Errorf("agent: list sandboxes: %w", err)
	}
	s := &podState{}
	for _, sb := range sbs {
		if sb.GetLabels()[runtime.LabelPodUID] != string(uid) && sb.GetMetadata().GetUid() != string(uid) {
			continue
		}
		st := sandboxState{ID: sb.GetId(), Attempt: sb.GetMetadata().GetAttempt(),
			Ready: sb.GetState() == runtimeapi.PodSandboxState_SANDBOX_READY}
		if sb.GetCreatedAt() != 0 {
			st.CreatedAt = time.Unix(0, sb.GetCreatedAt())
		}
		if st.Ready {
			if resp, err := a.rt.PodSandboxStatus(ctx, sb.GetId(), false); err == nil {
				if n := resp.GetStatus().GetNetwork(); n != nil && n.GetIp() != "" {
					st.IPs = append(st.IPs, n.GetIp())
					for _, x := range n.GetAdditionalIps() {
						st.IPs = append(st.IPs, x.GetIp())
					}
				}
			}
		}
		s.Sandboxes = append(s.Sandboxes, st)
	}
	cs, err := a.rt.ListContainers(ctx, &runtimeapi.ContainerFilter{LabelSelector: sel})
	if err != nil {
		return nil, fmt.Errorf("agent: list containers: %w", err)
	}
	for _, c := range cs {
		if c.GetLabels()[runtime.LabelPodUID] != string(uid) {
			continue
		}
		resp, err := a.rt.ContainerStatus(ctx, c.GetId(), false)
		if err != nil {
			if isNotFound(err) {
				continue
			}
			return nil, fmt.Errorf("agent: container status: %w", err)
		}
		s.Containers = append(s.Containers, containerFromRuntime(c, resp.GetStatus()))
	}
	s.sortNewestFirst()
	return s, nil
}

// terminationLogPath is where a container instance's termination message
// file lives on the node.
func (w *worker) terminationLogPath(name string, attempt int32) string {
	return filepath.Join(w.a.podsDir(), string(w.uid), "containers", name, strconv.Itoa(int(attempt))+".termination-log")
}

// logPath is a container instance's log file.
func (w *worker) logPath(name string, attempt int32) string {
	return filepath.Join(w.logDir, containerLogPath(name, attempt))
}

// terminationMessage reads what an exited container left in its
// terminationMessagePath, or, with FallbackToLogsOnError after a failure,
// the tail of its log.
func (w *worker) terminationMessage(pod *corev1.Pod, c *containerState) string {
	spec := findContainer(pod, c.Name)
	if spec == nil {
		return ""
	}
	msg := ""
	if spec.TerminationMessagePath != "" {
		if b, err := readAtMost(w.terminationLogPath(c.Name, c.Attempt), maxTerminationMessage); err == nil {
			msg = string(b)
		}
	}
	if msg == "" && c.ExitCode != 0 && spec.TerminationMessagePolicy == corev1.TerminationMessageFallbackToLogsOnError {
		msg = logTail(w.logPath(c.Name, c.Attempt), maxTerminationLogLines, maxTerminationLogMessage)
	}
	return msg
}

func readAtMost(path string, n int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, n))
}

// logTail returns the last lines of a CRI log file (each line
// "<time> <stream> <P|F> <text>"), at most maxBytes from the end.
func logTail(path string, lines int, maxBytes int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	var tail []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	var partial strings.Builder
	for sc.Scan() {
		text, full := criLogText(sc.Bytes())
		partial.WriteString(text)
		if !full {
			continue
		}
		tail = append(tail, partial.String())
		partial.Reset()
		if len(tail) > lines {
			tail = tail[1:]
		}
	}
	out := strings.Join(tail, "\n")
	if len(tail) > 0 {
		out += "\n"
	}
	if int64(len(out)) > maxBytes {
		out = out[int64(len(out))-maxBytes:]
	}
	return out
}

// criLogText parses one CRI log line; a line that is not in that format
// is taken as plain text.
func criLogText(line []byte) (string, bool) {
	f := bytes.SplitN(line, []byte(" "), 4)
	if len(f) < 4 || (string(f[2]) != "P" && string(f[2]) != "F") {
		return string(line), true
	}
	return string(f[3]), string(f[2]) == "F"
}
