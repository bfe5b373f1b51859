package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/httpstream/wsstream"
	remotecommandconsts "k8s.io/apimachinery/pkg/util/remotecommand"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/remotecommand"
	"k8s.io/client-go/transport/spdy"
	"k8s.io/client-go/util/exec"
)

// The channels of the v5.channel.k8s.io protocol.
const (
	chanStdin = iota
	chanStdout
	chanStderr
	chanStatus
	chanResize
)

// translate serves a v5.channel.k8s.io WebSocket by running the command
// over SPDY against the runtime's streaming server at target, which speaks
// the older protocols only.
func (s *server) translate(w http.ResponseWriter, r *http.Request, target *url.URL, st streams) {
	read := func(on bool) wsstream.ChannelType {
		if on {
			return wsstream.ReadChannel
		}
		return wsstream.IgnoreChannel
	}
	write := func(on bool) wsstream.ChannelType {
		if on {
			return wsstream.WriteChannel
		}
		return wsstream.IgnoreChannel
	}
	channels := []wsstream.ChannelType{
		chanStdin: read(st.stdin), chanStdout: write(st.stdout), chanStderr: write(st.stderr),
		chanStatus: wsstream.WriteChannel, chanResize: read(st.tty),
	}
	conn := wsstream.NewConn(map[string]wsstream.ChannelProtocolConfig{
		remotecommandconsts.StreamProtocolV5Name: {Binary: true, Channels: channels},
	})
	conn.SetIdleTimeout(s.idle)
	_, ws, err := conn.Open(w, r)
	if err != nil {
		s.log.Info("exec: WebSocket upgrade failed", "err", err)
		return
	}
	defer conn.Close()
	// An empty message on the first channel the client reads tells it the
	// streams are ready, as the kubelet's WebSocket server does.
	switch {
	case st.stdout:
		_, _ = ws[chanStdout].Write(nil)
	case st.stderr:
		_, _ = ws[chanStderr].Write(nil)
	}

	err = s.runSPDY(r, target, st, ws)
	b, _ := json.Marshal(statusOf(err))
	if _, werr := ws[chanStatus].Write(b); werr != nil {
		s.log.Debug("exec: writing the status failed", "err", werr)
	}
}

// runSPDY runs the remote command at target with the WebSocket channels as
// its streams.
func (s *server) runSPDY(r *http.Request, target *url.URL, st streams, ws []io.ReadWriteCloser) error {
	rt, upgrader, err := spdy.RoundTripperFor(&rest.Config{})
	if err != nil {
		return err
	}
	e, err := remotecommand.NewSPDYExecutorForTransports(rt, upgrader, http.MethodPost, target)
	if err != nil {
		return err
	}
	opts := remotecommand.StreamOptions{Tty: st.tty}
	if st.stdin {
		opts.Stdin = ws[chanStdin]
	}
	if st.stdout {
		opts.Stdout = ws[chanStdout]
	}
	if st.stderr {
		opts.Stderr = ws[chanStderr]
	}
	if st.tty {
		opts.TerminalSizeQueue = &sizeQueue{dec: json.NewDecoder(ws[chanResize])}
	}
	return e.StreamWithContext(r.Context(), opts)
}

// statusOf is the v4/v5 status message that ends a stream: success, a
// non-zero exit code, or what went wrong.
func statusOf(err error) *metav1.Status {
	st := &metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: metav1.StatusSuccess}
	var exit exec.CodeExitError
	var api apierrors.APIStatus
	switch {
	case err == nil:
		return st
	case errors.As(err, &exit) && exit.Exited():
		st.Status, st.Reason = metav1.StatusFailure, remotecommandconsts.NonZeroExitCodeReason
		st.Message = fmt.Sprintf("command terminated with non-zero exit code: %d", exit.ExitStatus())
		st.Details = &metav1.StatusDetails{Causes: []metav1.StatusCause{{
			Type: remotecommandconsts.ExitCodeCauseType, Message: strconv.Itoa(exit.ExitStatus())}}}
		return st
	case errors.As(err, &api):
		s := api.Status()
		s.TypeMeta = st.TypeMeta
		return &s
	}
	s := apierrors.NewInternalError(err).Status()
	s.TypeMeta = st.TypeMeta
	return &s
}

// sizeQueue hands the executor the terminal sizes the client sends on the
// resize channel, one JSON object each.
type sizeQueue struct{ dec *json.Decoder }

func (q *sizeQueue) Next() *remotecommand.TerminalSize {
	var size remotecommand.TerminalSize
	if err := q.dec.Decode(&size); err != nil {
		return nil
	}
	return &size
}
