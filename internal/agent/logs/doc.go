// Package logs reads container logs written in the CRI log format, the way
// the kubelet serves `kubectl logs`.
//
// A runtime writes one record per line:
//
//	2016-10-06T00:17:09.669794202Z stdout F a whole line
//	2016-10-06T00:17:09.669794203Z stderr P the first part of a long line
//	2016-10-06T00:17:09.669794204Z stderr F  and its end
//
// The tag F ends a line; P marks a fragment that the next record of the
// same stream continues. Read joins the fragments back into lines, keeps the
// requested stream, drops records older than Since, prefixes each line with
// its timestamp when asked, starts TailLines lines before the end, stops
// after LimitBytes, and with Follow keeps reading as the container writes
// and when it rotates the file (renames it and starts a new one), until the
// context ends or the container stops:
//
//	err := logs.Read(ctx, "/var/log/pods/ns_web_uid/app/0.log",
//		logs.Options{Follow: true, TailLines: ptr.To[int64](10),
//			Running: func(ctx context.Context) bool { return stillRunning(ctx, id) }},
//		w)
package logs
