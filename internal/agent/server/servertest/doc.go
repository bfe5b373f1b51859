// Package servertest holds test doubles for the agent's API (package
// server): a runtime whose streaming side is the kubelet's real streaming
// server running host commands, and a table of pods. Tests of the agent
// API and of the API server's proxy to it use them.
package servertest
