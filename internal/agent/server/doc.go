// Package server is the node agent's HTTPS API, the part of the kubelet that
// the API server calls for `kubectl logs`, `exec`, `attach` and
// `port-forward`. It serves the kubelet's paths:
//
//	GET      /healthz
//	GET      /containerLogs/{namespace}/{pod}/{container}
//	GET|POST /exec/{namespace}/{pod}[/{uid}]/{container}?command=…&input=1&output=1&error=1&tty=1
//	GET|POST /attach/{namespace}/{pod}[/{uid}]/{container}?input=1&output=1&error=1&tty=1
//	GET|POST /portForward/{namespace}/{pod}[/{uid}]
//
// Logs are read from the container's CRI log file (package logs). For
// exec, attach and port-forward the runtime hands out a URL of its streaming
// server, and the request is proxied there, upgrade and all, as SPDY or as a
// WebSocket of the older channel protocols (v1–v4). Two newer forms that
// runtimes' streaming servers do not speak are served here:
//
//   - WebSocket v5.channel.k8s.io (kubectl 1.30 and later try it first for
//     exec and attach): channels 0 stdin, 1 stdout, 2 stderr, 3 status, 4
//     resize, and 255 to close a channel. The server runs the command over
//     SPDY against the runtime and translates, ending with a metav1.Status on
//     channel 3 that carries a non-zero exit code as cause ExitCode.
//   - the port-forward tunnel (kubectl 1.31 and later try it first): a
//     WebSocket with subprotocol SPDY/3.1+portforward.k8s.io whose binary
//     messages carry a SPDY session, spliced to the runtime's SPDY upgrade.
//
// Callers are authenticated by the TLS listener; Options.Authorize may
// decide per request.
package server
