// Package servertest holds test doubles for the agent's API (package
// server): a runtime whose streaming side is the kubelet's real streaming
// server running host commands, a table of pods, and the client side of a
// port-forward (client-go's dialers and a server that answers in upper
// case). Tests of the agent API and of the API server's proxy to it use
// them.
package servertest
