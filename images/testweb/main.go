// Package main is testweb: the small HTTP server skiff's end-to-end tests
// run in pods (image images.TestWebRef). It listens on $PORT (default 8080)
// and answers:
//
//	/healthz   200 "ok"
//	/hostname  the pod's host name
//	/env       the environment, one sorted VAR=value line each
//	/exit/N    answers, then exits with code N
//	/echo?msg= the message
//	/ip        the pod's IP addresses, one a line
//
// It logs one line per request to stdout and exits 0 on SIGTERM or SIGINT.
// Build it static (CGO_ENABLED=0) for use in the image.
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	logger := log.New(os.Stdout, "", log.LstdFlags|log.LUTC)
	exits := make(chan int, 1)
	srv := &http.Server{
		Addr:              ":" + port,
		Handler:           logRequests(logger, newHandler(exits)),
		ReadHeaderTimeout: 10 * time.Second,
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	served := make(chan error, 1)
	go func() { served <- srv.ListenAndServe() }()
	logger.Printf("testweb: listening on :%s", port)

	code := 0
	select {
	case sig := <-sigs:
		logger.Printf("testweb: got %s, shutting down", sig)
	case code = <-exits:
		logger.Printf("testweb: exiting with code %d as asked", code)
	case err := <-served:
		if !errors.Is(err, http.ErrServerClosed) {
			logger.Printf("testweb: %v", err)
			os.Exit(1)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
	os.Exit(code)
}

// logRequests writes one line per request: method, path, status, duration.
func logRequests(logger *log.Logger, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(rec, r)
		logger.Printf("%s %s %s %d %s", r.RemoteAddr, r.Method, r.URL.RequestURI(), rec.status,
			fmt.Sprint(time.Since(start).Round(time.Microsecond)))
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}
