package logs

import (
	"fmt"
	"net/url"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ParseQuery reads the PodLogOptions of a log request's query, where
// pods/log and the kubelet's containerLogs keep them: container, follow,
// previous, timestamps, insecureSkipTLSVerifyBackend, sinceSeconds,
// sinceTime, tailLines, limitBytes and stream. It checks only that each
// value parses; the first one that does not is a *QueryError.
func ParseQuery(q url.Values) (*corev1.PodLogOptions, error) {
	o := &corev1.PodLogOptions{Container: q.Get("container")}
	var err error
	flag := func(name string) bool {
		v := q.Get(name)
		if v == "" || err != nil {
			return false
		}
		b, perr := strconv.ParseBool(v)
		if perr != nil {
			err = &QueryError{Param: name, Value: v, Err: perr}
		}
		return b
	}
	number := func(name string) *int64 {
		v := q.Get(name)
		if v == "" || err != nil {
			return nil
		}
		n, perr := strconv.ParseInt(v, 10, 64)
		if perr != nil {
			err = &QueryError{Param: name, Value: v, Err: perr}
			return nil
		}
		return &n
	}
	o.Follow, o.Previous, o.Timestamps = flag("follow"), flag("previous"), flag("timestamps")
	o.InsecureSkipTLSVerifyBackend = flag("insecureSkipTLSVerifyBackend")
	o.SinceSeconds, o.TailLines, o.LimitBytes = number("sinceSeconds"), number("tailLines"), number("limitBytes")
	if err != nil {
		return nil, err
	}
	if v := q.Get("sinceTime"); v != "" {
		t, perr := time.Parse(time.RFC3339, v)
		if perr != nil {
			return nil, &QueryError{Param: "sinceTime", Value: v, Err: perr}
		}
		o.SinceTime = &metav1.Time{Time: t}
	}
	if v := q.Get("stream"); v != "" {
		o.Stream = &v
	}
	return o, nil
}

// QueryError is a log query parameter whose value does not parse.
type QueryError struct {
	Param, Value string
	Err          error // from parsing the value
}

func (e *QueryError) Error() string {
	return fmt.Sprintf("invalid value %q for %s: %v", e.Value, e.Param, e.Err)
}

func (e *QueryError) Unwrap() error { return e.Err }
