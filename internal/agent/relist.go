package agent

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"skiff.dev/internal/runtime"
)

// relistLoop lists the runtime every RelistPeriod, like the kubelet's pod
// lifecycle event generator: a pod whose containers or sandboxes changed
// (a container exited, say) is synced at once, so exits are noticed within
// a period; what belongs to no pod of the node is stopped and removed.
func (a *Agent) relistLoop(ctx context.Context) {
	var prev map[types.UID]string
	t := time.NewTicker(a.o.RelistPeriod)
	defer t.Stop()
	for {
		cur, owners, err := a.relist(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			a.log.Warn("agent: listing the runtime", "err", err)
		} else {
			a.lastRelist.Store(time.Now().UnixNano())
			for uid, fp := range cur {
				if prev[uid] != fp {
					a.runtimeChanged(ctx, uid, owners[uid])
				}
			}
			for uid := range prev {
				if _, ok := cur[uid]; !ok {
					a.runtimeChanged(ctx, uid, owners[uid])
				}
			}
			prev = cur
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// owner names the pod of a runtime object, from its labels.
type owner struct {
	Namespace, Name string
}

// relist fingerprints every pod's runtime objects (IDs and states).
func (a *Agent) relist(ctx context.Context) (map[types.UID]string, map[types.UID]owner, error) {
	sbs, err := a.rt.ListPodSandbox(ctx, nil)
	if err != nil {
		return nil, nil, err
	}
	cs, err := a.rt.ListContainers(ctx, nil)
	if err != nil {
		return nil, nil, err
	}
	parts := map[types.UID][]string{}
	owners := map[types.UID]owner{}
	for _, sb := range sbs {
		uid := types.UID(sb.GetLabels()[runtime.LabelPodUID])
		if uid == "" {
			uid = types.UID(sb.GetMetadata().GetUid())
		}
		if uid == "" {
			continue
		}
		parts[uid] = append(parts[uid], "s"+sb.GetId()+"="+strconv.Itoa(int(sb.GetState())))
		owners[uid] = owner{sb.GetMetadata().GetNamespace(), sb.GetMetadata().GetName()}
	}
	for _, c := range cs {
		uid := types.UID(c.GetLabels()[runtime.LabelPodUID])
		if uid == "" {
			continue
		}
		parts[uid] = append(parts[uid], "c"+c.GetId()+"="+strconv.Itoa(int(c.GetState())))
		if _, ok := owners[uid]; !ok {
			owners[uid] = owner{c.GetLabels()[runtime.LabelPodNamespace], c.GetLabels()[runtime.LabelPodName]}
		}
	}
	out := make(map[types.UID]string, len(parts))
	for uid, p := range parts {
		sort.Strings(p)
		out[uid] = strings.Join(p, ",")
	}
	return out, owners, nil
}

// runtimeChanged wakes a pod's worker, or removes what a pod the agent
// does not know left behind.
func (a *Agent) runtimeChanged(ctx context.Context, uid types.UID, o owner) {
	if w := a.worker(uid); w != nil {
		w.poke()
		return
	}
	if !a.known(uid) {
		a.removeOrphan(ctx, uid, o)
	}
}

// known reports whether a pod UID is one the agent runs: it has a worker,
// or it is bound to the node in the API (its worker may not have started
// yet), or it is a static pod.
func (a *Agent) known(uid types.UID) bool {
	if a.worker(uid) != nil {
		return true
	}
	if a.pods != nil {
		if p := a.pods.byUID(uid); p != nil && !isMirror(p) {
			return true
		}
	}
	return a.static != nil && a.static.has(uid)
}

// collectOrphans removes, on start, whatever the runtime runs for pods
// that are neither bound to this node in the API nor static: the agent
// adopts the rest.
func (a *Agent) collectOrphans(ctx context.Context) error {
	_, owners, err := a.relist(ctx)
	if err != nil {
		return err
	}
	for uid, o := range owners {
		if !a.known(uid) {
			a.removeOrphan(ctx, uid, o)
		}
	}
	a.removeOrphanDirs()
	return nil
}

// removeOrphanDirs removes the pod directories (<uid>) and log directories
// (<namespace>_<name>_<uid>) that pods gone while no agent ran left in the
// pods directory.
func (a *Agent) removeOrphanDirs() {
	entries, err := os.ReadDir(a.podsDir())
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		name := e.Name()
		uid, logs := types.UID(name), false
		if i := strings.LastIndexByte(name, '_'); i >= 0 {
			uid, logs = types.UID(name[i+1:]), true
		}
		if a.known(uid) {
			continue
		}
		if !logs {
			if err := a.volumes.Cleanup(uid); err != nil {
				a.log.Warn("agent: cleaning up the volumes of a gone pod", "uid", uid, "err", err)
				continue
			}
		}
		_ = os.RemoveAll(filepath.Join(a.podsDir(), name))
	}
}

// removeOrphan stops and removes the runtime objects of a pod the agent
// does not know.
func (a *Agent) removeOrphan(ctx context.Context, uid types.UID, o owner) {
	a.log.Info("agent: removing containers of an unknown pod", "uid", uid, "pod", o.Namespace+"/"+o.Name)
	logDir := ""
	if o.Name != "" {
		logDir = filepath.Join(a.podsDir(), o.Namespace+"_"+o.Name+"_"+string(uid))
	}
	a.removePod(ctx, uid, logDir)
}

// removePod stops and removes every container and sandbox of a pod, and
// its logs and directory on the node.
func (a *Agent) removePod(ctx context.Context, uid types.UID, logDir string) {
	s, err := a.listPod(ctx, uid)
	if err != nil {
		a.log.Warn("agent: removing a pod", "uid", uid, "err", err)
		return
	}
	for _, c := range s.Containers {
		if c.State == stateRunning || c.State == stateCreated || c.State == stateUnknown {
			if err := a.rt.StopContainer(ctx, c.ID, minimumGracePeriodSeconds); err != nil && !isNotFound(err) {
				a.log.Warn("agent: stopping a container", "uid", uid, "err", err)
			}
		}
		_ = a.removeContainer(ctx, c.ID)
	}
	for _, sb := range s.Sandboxes {
		if sb.Ready {
			if err := a.rt.StopPodSandbox(ctx, sb.ID); err != nil && !isNotFound(err) {
				a.log.Warn("agent: stopping a sandbox", "uid", uid, "err", err)
			}
		}
		if err := a.rt.RemovePodSandbox(ctx, sb.ID); err != nil && !isNotFound(err) {
			a.log.Warn("agent: removing a sandbox", "uid", uid, "err", err)
		}
	}
	if logDir != "" {
		_ = os.RemoveAll(logDir)
	}
	_ = os.RemoveAll(filepath.Join(a.podsDir(), string(uid)))
	if a.volumes != nil {
		_ = a.volumes.Cleanup(uid)
	}
}

// removeContainer removes one container, ignoring one that is gone.
func (a *Agent) removeContainer(ctx context.Context, id string) error {
	if err := a.rt.RemoveContainer(ctx, id); err != nil && !isNotFound(err) {
		a.log.Warn("agent: removing a container", "id", id, "err", err)
		return err
	}
	return nil
}
