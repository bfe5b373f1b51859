// Package namespace is the namespace controller: when a namespace is
// deleted it is marked Terminating; this loop deletes everything in it and,
// once nothing is left, removes the "kubernetes" finalizer so that the API
// server can remove the namespace itself.
package namespace

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"

	"skiff.dev/internal/controllers/ctrl"
)

// Name is the controller's name, for logs and leader election.
const Name = "namespace-controller"

// Controller empties and finalizes namespaces being deleted.
type Controller struct {
	client    kubernetes.Interface
	meta      metadata.Interface
	discovery discovery.DiscoveryInterface
	informer  cache.SharedIndexInformer
	queue     workqueue.TypedRateLimitingInterface[string]
	log       *slog.Logger
}

// New builds the controller.
func New(cc *ctrl.Context) (ctrl.Controller, error) {
	c := &Controller{client: cc.Client, meta: cc.Metadata, discovery: cc.Client.Discovery(), log: cc.Log.With("controller", Name),
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.NewTypedItemExponentialFailureRateLimiter[string](100*time.Millisecond, 5*time.Second),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: Name})}
	var err error
	c.informer = cc.Informers.Core().V1().Namespaces().Informer()
	enqueue := func(obj interface{}) {
		if ns, ok := obj.(*corev1.Namespace); ok && ns.DeletionTimestamp != nil {
			c.queue.Add(ns.Name)
		}
	}
	_, err = c.informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, obj interface{}) { enqueue(obj) },
	})
	if err != nil {
		return nil, fmt.Errorf("namespace: %w", err)
	}
	return c, nil
}

// Run works until ctx ends.
func (c *Controller) Run(ctx context.Context) {
	defer c.queue.ShutDown()
	if !cache.WaitForCacheSync(ctx.Done(), c.informer.HasSynced) {
		return
	}
	go wait.UntilWithContext(ctx, c.work, time.Second)
	<-ctx.Done()
}

func (c *Controller) work(ctx context.Context) {
	for {
		name, quit := c.queue.Get()
		if quit {
			return
		}
		err := c.sync(ctx, name)
		switch {
		case errors.Is(err, errNotEmpty):
			c.queue.AddAfter(name, 500*time.Millisecond)
			c.queue.Forget(name)
		case err != nil:
			c.log.Warn("namespace sync failed", "namespace", name, "err", err)
			c.queue.AddRateLimited(name)
		default:
			c.queue.Forget(name)
		}
		c.queue.Done(name)
	}
}

var errNotEmpty = errors.New("namespace: content remains")

func (c *Controller) sync(ctx context.Context, name string) error {
	ns, err := c.client.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if ns.DeletionTimestamp == nil || !slices.Contains(ns.Spec.Finalizers, corev1.FinalizerKubernetes) {
		return nil
	}
	left, err := c.deleteContent(ctx, name)
	if err != nil {
		return err
	}
	if left > 0 {
		return errNotEmpty
	}
	ns.Spec.Finalizers = slices.DeleteFunc(ns.Spec.Finalizers, func(f corev1.FinalizerName) bool {
		return f == corev1.FinalizerKubernetes
	})
	_, err = c.client.CoreV1().Namespaces().Finalize(ctx, ns, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// deleteContent deletes every namespaced object in the namespace and
// returns how many remain.
func (c *Controller) deleteContent(ctx context.Context, namespace string) (int, error) {
	lists, err := c.discovery.ServerPreferredNamespacedResources()
	if err != nil && len(lists) == 0 {
		return 0, err
	}
	left := 0
	for _, list := range lists {
		gv, err := schema.ParseGroupVersion(list.GroupVersion)
		if err != nil {
			continue
		}
		for _, r := range list.APIResources {
			if !slices.Contains(r.Verbs, "deletecollection") || !slices.Contains(r.Verbs, "list") {
				continue
			}
			res := c.meta.Resource(gv.WithResource(r.Name)).Namespace(namespace)
			err := res.DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{})
			if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsMethodNotSupported(err) {
				return 0, fmt.Errorf("delete %s in %s: %w", r.Name, namespace, err)
			}
			remaining, err := res.List(ctx, metav1.ListOptions{})
			if err != nil {
				continue
			}
			left += len(remaining.Items)
		}
	}
	return left, nil
}
