package openapi

// param is a parameter of an operation or of all operations of a path.
type param struct {
	name     string
	in       string // "query" or "path"
	typ      string // "string", "integer" or "boolean"
	required bool
	doc      string
}

func query(name, typ, doc string) param { return param{name: name, in: "query", typ: typ, doc: doc} }

func pathParam(name, doc string) param {
	return param{name: name, in: "path", typ: "string", required: true, doc: doc}
}

var (
	pretty          = query("pretty", "string", "If true, the output is indented for people to read.")
	dryRun          = query("dryRun", "string", "When set to All, the request is validated and processed but nothing is persisted.")
	fieldManager    = query("fieldManager", "string", "The name of the actor making the change, recorded in managedFields. Required for apply patches.")
	fieldValidation = query("fieldValidation", "string", "What to do with unknown or duplicate fields in the request body: Ignore drops them, Warn drops them and warns (the default), Strict fails the request.")
	force           = query("force", "boolean", "Force an apply patch: take over the fields other managers own instead of failing with a conflict. Only for apply patches.")

	gracePeriod   = query("gracePeriodSeconds", "integer", "Seconds to wait before the object is deleted; zero deletes at once. Unset uses the kind's default.")
	unsafeDelete  = query("ignoreStoreReadErrorWithClusterBreakingPotential", "boolean", "Delete an object that cannot be read from storage, skipping finalizers and preconditions. Dangerous.")
	orphan        = query("orphanDependents", "boolean", "Deprecated: use propagationPolicy. Whether dependents are orphaned rather than deleted.")
	propagation   = query("propagationPolicy", "string", "How dependents are garbage collected: Orphan, Background or Foreground.")
	bookmarks     = query("allowWatchBookmarks", "boolean", "Ask a watch for BOOKMARK events, which carry only a resourceVersion.")
	continueToken = query("continue", "string", "The continue token of the previous page of a paginated list.")
	fieldSelector = query("fieldSelector", "string", "Only return objects whose fields match this selector.")
	labelSelector = query("labelSelector", "string", "Only return objects whose labels match this selector.")
	limit         = query("limit", "integer", "The largest number of objects to return; more are fetched with the continue token.")
	rv            = query("resourceVersion", "string", "The resourceVersion the list or watch starts from; see resourceVersionMatch.")
	rvMatch       = query("resourceVersionMatch", "string", "How resourceVersion applies to a list: Exact or NotOlderThan.")
	initialEvents = query("sendInitialEvents", "boolean", "Start a watch with the current state of the objects as ADDED events, then a bookmark.")
	timeout       = query("timeoutSeconds", "integer", "End the list or watch after this many seconds.")
	watchParam    = query("watch", "boolean", "Watch for changes instead of listing.")

	nameParam      = pathParam("name", "The name of the object.")
	namespaceParam = pathParam("namespace", "The namespace of the object.")
)

// The query parameters of the generic operations.
var (
	writeParams            = []param{dryRun, fieldManager, fieldValidation}
	patchParams            = []param{dryRun, fieldManager, fieldValidation, force}
	deleteParams           = []param{dryRun, gracePeriod, unsafeDelete, orphan, propagation}
	listParams             = []param{bookmarks, continueToken, fieldSelector, labelSelector, limit, rv, rvMatch, initialEvents, timeout, watchParam}
	deleteCollectionParams = []param{continueToken, dryRun, fieldSelector, gracePeriod, unsafeDelete, labelSelector, limit, orphan, propagation, rv, rvMatch, initialEvents, timeout}
)

// The query parameters of the pod subresources that are not plain objects.
var (
	container   = query("container", "string", "The container to use; defaults to the only container.")
	stdin       = query("stdin", "boolean", "Attach the standard input.")
	stdout      = query("stdout", "boolean", "Attach the standard output.")
	stderr      = query("stderr", "boolean", "Attach the standard error.")
	tty         = query("tty", "boolean", "Allocate a terminal.")
	execParams  = []param{query("command", "string", "The command to run, one argument per parameter."), container, stderr, stdin, stdout, tty}
	attachParam = []param{container, stderr, stdin, stdout, tty}
	portParams  = []param{query("ports", "integer", "The ports to forward.")}
	proxyPath   = query("path", "string", "The path to proxy to.")
	logParams   = []param{
		container,
		query("follow", "boolean", "Stream the log as it grows."),
		query("insecureSkipTLSVerifyBackend", "boolean", "Do not verify the serving certificate of the node that holds the log."),
		query("limitBytes", "integer", "Stop after this many bytes."),
		query("previous", "boolean", "Return the log of the previous, terminated instance of the container."),
		query("sinceSeconds", "integer", "Only return lines newer than this many seconds."),
		query("stream", "string", "Which stream to return: All, Stdout or Stderr."),
		query("tailLines", "integer", "Only return this many lines from the end of the log."),
		query("timestamps", "boolean", "Prefix each line with its timestamp."),
	}
)
