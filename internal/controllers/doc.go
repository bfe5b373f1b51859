// Package controllers lists skiff's control loops (kube-controller-manager's
// loops), each in its own package under internal/controllers; package
// manager runs them.
package controllers
