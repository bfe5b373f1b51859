// Package controllers is the controller manager: the registry of control
// loops and the code that runs them, under leader election on a Lease, so
// that of several servers sharing one cluster store only one runs the
// loops at a time.
package controllers
