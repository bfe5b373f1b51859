// Package kubeconfig writes the kubeconfig files skiff hands to its users:
// one cluster, one user and one context, all named "skiff", with the CA,
// client certificate and key embedded so the file works when copied to
// another machine.
package kubeconfig

import (
	"fmt"
	"os"
	"path/filepath"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Name is the name of the cluster, user and context in files Write creates.
const Name = "skiff"

// Write writes a kubeconfig for serverURL to path (mode 0600), embedding
// the contents of caFile, certFile and keyFile. It replaces path atomically.
func Write(path, serverURL, caFile, certFile, keyFile string) error {
	files := map[string][]byte{caFile: nil, certFile: nil, keyFile: nil}
	for f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("kubeconfig: %w", err)
		}
		files[f] = data
	}

	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[Name] = &clientcmdapi.Cluster{
		Server:                   serverURL,
		CertificateAuthorityData: files[caFile],
	}
	cfg.AuthInfos[Name] = &clientcmdapi.AuthInfo{
		ClientCertificateData: files[certFile],
		ClientKeyData:         files[keyFile],
	}
	cfg.Contexts[Name] = &clientcmdapi.Context{Cluster: Name, AuthInfo: Name}
	cfg.CurrentContext = Name

	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := clientcmd.WriteToFile(*cfg, tmp); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("kubeconfig: write %s: %w", path, err)
	}
	// WriteToFile keeps the mode of a file that already exists.
	if err := os.Chmod(tmp, 0o600); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("kubeconfig: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("kubeconfig: %w", err)
	}
	return nil
}
