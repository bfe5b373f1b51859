package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"skiff.dev/bench"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

func run() error {
	global := flag.NewFlagSet("load", flag.ExitOnError)
	kubeconfig := global.String("kubeconfig", "", "kubeconfig of the cluster to load")
	skiff := global.String("skiff", "", "path of a skiff binary to start as a fresh server and load instead")
	global.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: load [-kubeconfig FILE | -skiff BIN] creates|watch [flags]")
		global.PrintDefaults()
	}
	_ = global.Parse(os.Args[1:])
	if global.NArg() == 0 || (*kubeconfig == "") == (*skiff == "") {
		global.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var load func(context.Context, *rest.Config) error
	switch cmd, args := global.Arg(0), global.Args()[1:]; cmd {
	case "creates":
		load = createsCommand(args)
	case "watch":
		load = watchCommand(args)
	default:
		return fmt.Errorf("unknown load %q: want creates or watch", cmd)
	}

	path := *kubeconfig
	if *skiff != "" {
		dir, err := os.MkdirTemp("", "skiff-load-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		sctx, cancel := context.WithTimeout(ctx, time.Minute)
		p, err := bench.StartProcess(sctx, bench.ServerCommand(*skiff, filepath.Join(dir, "data")), filepath.Join(dir, "data"), nil)
		cancel()
		if err != nil {
			return err
		}
		defer p.Stop(30 * time.Second)
		fmt.Println("server:", p.URL)
		path = p.Kubeconfig
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		return err
	}
	return load(ctx, cfg)
}

func createsCommand(args []string) func(context.Context, *rest.Config) error {
	fs := flag.NewFlagSet("creates", flag.ExitOnError)
	var o bench.CreateOptions
	fs.IntVar(&o.Clients, "clients", 32, "concurrent clients, each with its own clientset")
	fs.IntVar(&o.Count, "count", 20000, "creates in all (0: until -duration)")
	fs.DurationVar(&o.Duration, "duration", time.Minute, "upper bound on the load's time")
	fs.StringVar(&o.Namespace, "namespace", "bench", "namespace of the ConfigMaps (created if missing)")
	content := fs.String("content", "json", "json or protobuf")
	fs.BoolVar(&o.ConnPerClient, "conn-per-client", false, "a connection per client instead of one shared HTTP/2 connection")
	_ = fs.Parse(args)
	return func(ctx context.Context, cfg *rest.Config) error {
		ct, err := contentType(*content)
		if err != nil {
			return err
		}
		o.ContentType = ct
		res, err := bench.Creates(ctx, cfg, o)
		if err != nil {
			return err
		}
		fmt.Println(res)
		if res.Err != nil {
			return fmt.Errorf("first failure: %w", res.Err)
		}
		return nil
	}
}

func watchCommand(args []string) func(context.Context, *rest.Config) error {
	fs := flag.NewFlagSet("watch", flag.ExitOnError)
	var o bench.WatchOptions
	fs.IntVar(&o.Watchers, "watchers", 100, "client-go watches on the namespace's ConfigMaps")
	fs.IntVar(&o.Updates, "updates", 10000, "updates in all")
	fs.IntVar(&o.Writers, "writers", 4, "concurrent writers")
	fs.IntVar(&o.Objects, "objects", 0, "ConfigMaps updated round-robin (0: 4 per writer)")
	fs.Float64Var(&o.Rate, "rate", 0, "updates per second across writers (0: unpaced)")
	fs.BoolVar(&o.ConnPerWatcher, "conn-per-watcher", false, "a connection per watcher instead of one shared HTTP/2 connection")
	fs.DurationVar(&o.Timeout, "timeout", 5*time.Minute, "upper bound on the load's time")
	_ = fs.Parse(args)
	return func(ctx context.Context, cfg *rest.Config) error {
		res, err := bench.WatchLag(ctx, cfg, o)
		if err != nil {
			return err
		}
		fmt.Println(res)
		return nil
	}
}

func contentType(s string) (string, error) {
	switch s {
	case "json":
		return bench.JSON, nil
	case "protobuf":
		return bench.Protobuf, nil
	}
	return "", fmt.Errorf("unknown -content %q: want json or protobuf", s)
}
