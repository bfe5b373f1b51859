package agent

import (
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/record"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func pullSecret(name string, typ corev1.SecretType, key, data string) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name}, Type: typ,
		Data: map[string][]byte{key: []byte(data)}}
}

func jsonSecret(name, data string) *corev1.Secret {
	return pullSecret(name, corev1.SecretTypeDockerConfigJson, corev1.DockerConfigJsonKey, data)
}

func TestDockerConfigParsing(t *testing.T) {
	tests := []struct {
		name    string
		secret  *corev1.Secret
		want    map[string]credential // by key
		wantErr string
	}{{
		name:   "dockerconfigjson with username and password",
		secret: jsonSecret("s", `{"auths":{"https://r.example.com/v1/":{"username":"u","password":"p"}}}`),
		want:   map[string]credential{"r.example.com": {Username: "u", Password: "p"}},
	}, {
		name: "dockercfg",
		secret: pullSecret("s", corev1.SecretTypeDockercfg, corev1.DockerConfigKey,
			`{"r.example.com:5000":{"username":"u","password":"p","email":"e@x"}}`),
		want: map[string]credential{"r.example.com:5000": {Username: "u", Password: "p"}},
	}, {
		name:   "auth field overrides username and password",
		secret: jsonSecret("s", `{"auths":{"r.io":{"username":"x","password":"y","auth":"`+b64("user:pa:ss")+`"}}}`),
		want:   map[string]credential{"r.io": {Username: "user", Password: "pa:ss", Auth: b64("user:pa:ss")}},
	}, {
		name:   "unpadded auth field",
		secret: jsonSecret("s", `{"auths":{"r.io":{"auth":"`+strings.TrimRight(b64("ab:c"), "=")+`"}}}`),
		want:   map[string]credential{"r.io": {Username: "ab", Password: "c", Auth: strings.TrimRight(b64("ab:c"), "=")}},
	}, {
		name:   "tokens and path",
		secret: jsonSecret("s", `{"auths":{"http://r.io/v2/team":{"identitytoken":"it","registrytoken":"rt"}}}`),
		want:   map[string]credential{"r.io/team": {IdentityToken: "it", RegistryToken: "rt"}},
	}, {
		name:    "bad JSON",
		secret:  jsonSecret("bad", `{"auths":{"r.io":{"password":"hunter2"`),
		wantErr: "default/bad",
	}, {
		name:    "syntax error does not show the input",
		secret:  jsonSecret("bad", `{"auths":{"r.io":{"password":hunter2}}}`),
		wantErr: "malformed JSON at byte",
	}, {
		name:    "auth field not base64",
		secret:  jsonSecret("bad", `{"auths":{"r.io":{"auth":"!!hunter2!!"}}}`),
		wantErr: "not base64",
	}, {
		name:    "auth field without a colon",
		secret:  jsonSecret("bad", `{"auths":{"r.io":{"auth":"`+b64("hunter2")+`"}}}`),
		wantErr: "username:password",
	}, {
		name:   "wrong type is ignored",
		secret: pullSecret("s", corev1.SecretTypeOpaque, corev1.DockerConfigJsonKey, `{"auths":{"r.io":{"username":"u"}}}`),
		want:   map[string]credential{},
	}, {
		name:   "type and key disagree",
		secret: pullSecret("s", corev1.SecretTypeDockercfg, corev1.DockerConfigJsonKey, `{"auths":{"r.io":{"username":"u"}}}`),
		want:   map[string]credential{},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			good := jsonSecret("good", `{"auths":{"other.io":{"username":"g"}}}`)
			k, err := newKeyring([]*corev1.Secret{tt.secret, good})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Errorf("error shows the secret: %v", err)
				}
				if got := k.creds["other.io"]; len(got) != 1 || got[0].Username != "g" {
					t.Errorf("the good secret is lost: %v", k.index)
				}
				if len(k.index) != 1 {
					t.Errorf("keys %v, want only the good secret's", k.index)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.want["other.io"] = credential{Username: "g"}
			if len(k.creds) != len(tt.want) {
				t.Errorf("keys %v, want %d", k.index, len(tt.want))
			}
			for key, want := range tt.want {
				if got := k.creds[key]; len(got) != 1 || got[0] != want {
					t.Errorf("key %q: got %d credentials (%+v), want %+v", key, len(got), got, want)
				}
			}
		})
	}
}

func TestCredentialRedacted(t *testing.T) {
	c := credential{Username: "u", Password: "hunter2"}
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), fmt.Sprint([]credential{c})} {
		if strings.Contains(s, "hunter2") {
			t.Errorf("formatted credential shows the password: %s", s)
		}
	}
}

func TestImageRepository(t *testing.T) {
	for image, want := range map[string]string{
		"busybox":                         "docker.io/library/busybox",
		"busybox:1.36":                    "docker.io/library/busybox",
		"library/busybox@sha256:abc":      "docker.io/library/busybox",
		"user/app:v1":                     "docker.io/user/app",
		"docker.io/busybox":               "docker.io/library/busybox",
		"index.docker.io/user/app":        "docker.io/user/app",
		"localhost/app":                   "localhost/app",
		"localhost:5000/team/app:v2":      "localhost:5000/team/app",
		"r.example.com/team/app@sha256:0": "r.example.com/team/app",
	} {
		if got := imageRepository(image); got != want {
			t.Errorf("imageRepository(%q) = %q, want %q", image, got, want)
		}
	}
}

func TestKeyringLookup(t *testing.T) {
	k, err := newKeyring([]*corev1.Secret{
		jsonSecret("a", `{"auths":{
			"https://index.docker.io/v1/":{"username":"hub"},
			"r.example.com":{"username":"host"},
			"r.example.com/team":{"username":"team"},
			"r.example.com:5000":{"username":"port"},
			"*.wild.io":{"username":"wild"},
			"quay.io/org/":{"username":"quay-org"}}}`),
		pullSecret("b", corev1.SecretTypeDockercfg, corev1.DockerConfigKey,
			`{"https://r.example.com":{"username":"host2"}}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		image string
		want  []string
	}{
		{"busybox", []string{"hub"}},
		{"docker.io/library/busybox:1.36", []string{"hub"}},
		{"user/app", []string{"hub"}},
		{"r.example.com/app:v1", []string{"host", "host2"}},
		{"r.example.com/team/app", []string{"team", "host", "host2"}},
		{"r.example.com:5000/app", []string{"port"}},
		{"r.example.com:6000/app", nil},
		{"a.wild.io/app", []string{"wild"}},
		{"a.b.wild.io/app", nil},
		{"wild.io/app", nil},
		{"quay.io/org/app", []string{"quay-org"}},
		{"quay.io/other/app", nil},
		{"example.com/app", nil},
	}
	for _, tt := range tests {
		var got []string
		for _, c := range k.lookup(tt.image) {
			got = append(got, c.Username)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("lookup(%q) = %v, want %v", tt.image, got, tt.want)
		}
	}

	// A key for docker.io itself matches directly, and then Docker Hub's
	// default entry is not added.
	k2, _ := newKeyring([]*corev1.Secret{jsonSecret("c",
		`{"auths":{"docker.io":{"username":"direct"},"index.docker.io":{"username":"hub"}}}`)})
	if got := k2.lookup("busybox"); len(got) != 1 || got[0].Username != "direct" {
		t.Errorf("lookup(busybox) = %v users, want [direct]", len(got))
	}
}

// fakeImages accepts pulls only with one username (or anonymously when
// that is empty) and records every try.
type fakeImages struct {
	accept  string
	present bool
	tries   []*runtimeapi.AuthConfig
}

func (f *fakeImages) ImageStatus(context.Context, *runtimeapi.ImageSpec, bool) (*runtimeapi.ImageStatusResponse, error) {
	if f.present {
		return &runtimeapi.ImageStatusResponse{Image: &runtimeapi.Image{Id: "sha256:present"}}, nil
	}
	return &runtimeapi.ImageStatusResponse{}, nil
}

func (f *fakeImages) PullImage(_ context.Context, spec *runtimeapi.ImageSpec, auth *runtimeapi.AuthConfig,
	_ *runtimeapi.PodSandboxConfig) (string, error) {
	f.tries = append(f.tries, auth)
	if auth.GetUsername() == f.accept {
		return "sha256:pulled", nil
	}
	return "", fmt.Errorf("pull %s as %q: unauthorized", spec.Image, auth.GetUsername())
}

func (f *fakeImages) users() []string {
	var out []string
	for _, a := range f.tries {
		if a == nil {
			out = append(out, "<anonymous>")
		} else {
			out = append(out, a.Username)
		}
	}
	return out
}

func TestPullImageTries(t *testing.T) {
	creds := []credential{{Username: "a"}, {Username: "b", Password: "pb"}, {Username: "c"}}
	tests := []struct {
		name      string
		creds     []credential
		accept    string
		wantTries []string
		wantErr   string
	}{
		{"no credentials: anonymous", nil, "", []string{"<anonymous>"}, ""},
		{"no credentials, anonymous refused", nil, "a", []string{"<anonymous>"}, `pull img as "": unauthorized`},
		{"second credential works", creds, "b", []string{"a", "b"}, ""},
		{"first credential works", creds, "a", []string{"a"}, ""},
		{"none works: no anonymous try, all errors", creds, "", []string{"a", "b", "c"},
			`[pull img as "a": unauthorized, pull img as "b": unauthorized, pull img as "c": unauthorized]`},
		{"one credential fails: its error", creds[:1], "x", []string{"a"}, `pull img as "a": unauthorized`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeImages{accept: tt.accept}
			ref, err := pullImage(context.Background(), f, &runtimeapi.ImageSpec{Image: "img"}, tt.creds, nil)
			if !slices.Equal(f.users(), tt.wantTries) {
				t.Errorf("tries %v, want %v", f.users(), tt.wantTries)
			}
			if tt.wantErr == "" {
				if err != nil || ref != "sha256:pulled" {
					t.Errorf("got %q, %v; want the pulled image", ref, err)
				}
				return
			}
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("error %v, want %q", err, tt.wantErr)
			}
		})
	}
	f := &fakeImages{accept: "b"}
	if _, err := pullImage(context.Background(), f, &runtimeapi.ImageSpec{Image: "img"}, creds, nil); err != nil {
		t.Fatal(err)
	}
	if a := f.tries[1]; a.Password != "pb" || a.ServerAddress != "" {
		t.Errorf("auth config %+v, want the password and no server address", a)
	}
}

// TestEnsureImagePullSecrets runs ensureImage with a fake API holding the
// pod's pull secrets and a fake image service: the secret's credential
// reaches PullImage, and a missing secret is a Warning event.
func TestEnsureImagePullSecrets(t *testing.T) {
	secret := jsonSecret("regcred", `{"auths":{"r.example.com":{"auth":"`+b64("bob:s3cret")+`"}}}`)
	newPod := func(image string, secrets ...string) *corev1.Pod {
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "p", UID: "uid-p"},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: image,
				ImagePullPolicy: corev1.PullIfNotPresent}}}}
		for _, s := range secrets {
			pod.Spec.ImagePullSecrets = append(pod.Spec.ImagePullSecrets, corev1.LocalObjectReference{Name: s})
		}
		return pod
	}
	tests := []struct {
		name      string
		pod       *corev1.Pod
		accept    string
		wantTries []string
		wantEvent string // a FailedToRetrieveImagePullSecret event, if any
		wantErr   bool
	}{
		{"secret's credential reaches PullImage", newPod("r.example.com/app:v1", "regcred"), "bob",
			[]string{"bob"}, "", false},
		{"missing secret: event, the others still used", newPod("r.example.com/app:v1", "gone", "regcred", "gone2"), "bob",
			[]string{"bob"}, "Warning FailedToRetrieveImagePullSecret Unable to retrieve some image pull secrets (gone, gone2); attempting to pull the image may not succeed.", false},
		{"no matching credential: anonymous", newPod("other.io/app", "regcred"), "",
			[]string{"<anonymous>"}, "", false},
		{"matching credential refused: no anonymous try", newPod("r.example.com/app", "regcred"), "",
			[]string{"bob"}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeImages{accept: tt.accept}
			rec := record.NewFakeRecorder(20)
			a := &Agent{o: Options{Images: f, BackOffBase: time.Second, BackOffMax: time.Minute},
				log: slog.New(slog.DiscardHandler), client: fake.NewClientset(secret), recorder: rec}
			w := &worker{a: a, backoffs: map[string]*backoff{}, failures: map[string]startFailure{}}
			ref, err := w.ensureImage(context.Background(), tt.pod, &tt.pod.Spec.Containers[0], &runtimeapi.PodSandboxConfig{})
			if tt.wantErr != (err != nil) {
				t.Fatalf("ensureImage = %q, %v; want error %v", ref, err, tt.wantErr)
			}
			if !tt.wantErr && ref != "sha256:pulled" {
				t.Errorf("ref %q, want sha256:pulled", ref)
			}
			if tt.wantErr && w.failures["c"].Reason != reasonErrImagePull {
				t.Errorf("failure %+v, want %s", w.failures["c"], reasonErrImagePull)
			}
			if !slices.Equal(f.users(), tt.wantTries) {
				t.Errorf("tries %v, want %v", f.users(), tt.wantTries)
			}
			if tt.wantTries[0] == "bob" && f.tries[0].Password != "s3cret" {
				t.Errorf("PullImage got the wrong password")
			}
			events := drain(rec)
			found := false
			for _, e := range events {
				if strings.Contains(e, eventFailedToRetrieveImagePullSecret) {
					found = true
					if e != tt.wantEvent {
						t.Errorf("event %q, want %q", e, tt.wantEvent)
					}
				}
				if strings.Contains(e, "s3cret") {
					t.Errorf("event shows the password: %q", e)
				}
			}
			if found != (tt.wantEvent != "") {
				t.Errorf("events %q; want the secret event: %v", events, tt.wantEvent != "")
			}
		})
	}

	// A secret that does not parse fails the pull, as in the kubelet,
	// without showing its contents.
	bad := jsonSecret("bad", `{"auths":{"r.example.com":{"password":hunter2}}}`)
	f := &fakeImages{}
	rec := record.NewFakeRecorder(20)
	a := &Agent{o: Options{Images: f, BackOffBase: time.Second, BackOffMax: time.Minute},
		log: slog.New(slog.DiscardHandler), client: fake.NewClientset(secret, bad), recorder: rec}
	w := &worker{a: a, backoffs: map[string]*backoff{}, failures: map[string]startFailure{}}
	pod := newPod("r.example.com/app", "regcred", "bad")
	if _, err := w.ensureImage(context.Background(), pod, &pod.Spec.Containers[0], nil); err == nil {
		t.Errorf("a malformed pull secret did not fail the pull")
	}
	if got := w.failures["c"]; got.Reason != reasonErrImagePull || !strings.Contains(got.Message, "default/bad") ||
		strings.Contains(got.Message, "hunter2") {
		t.Errorf("failure %+v, want %s naming default/bad, without its contents", got, reasonErrImagePull)
	}
	if len(f.tries) != 0 {
		t.Errorf("pulled despite the malformed secret: %v", f.users())
	}

	// A present image is not pulled, so no secret is read.
	f = &fakeImages{present: true}
	a = &Agent{o: Options{Images: f}, log: slog.New(slog.DiscardHandler), client: fake.NewClientset(),
		recorder: record.NewFakeRecorder(20)}
	w = &worker{a: a, backoffs: map[string]*backoff{}, failures: map[string]startFailure{}}
	pod = newPod("r.example.com/app", "gone")
	if ref, err := w.ensureImage(context.Background(), pod, &pod.Spec.Containers[0], nil); err != nil || ref != "sha256:present" {
		t.Errorf("present image: %q, %v", ref, err)
	}
	if len(f.tries) != 0 {
		t.Errorf("a present image was pulled")
	}
}

// drain returns the events a fake recorder holds.
func drain(rec *record.FakeRecorder) []string {
	var out []string
	for {
		select {
		case e := <-rec.Events:
			out = append(out, e)
		default:
			return out
		}
	}
}
