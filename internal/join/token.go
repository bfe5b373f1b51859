package join

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
)

const tokenPrefix = "skiff"

// Token is a parsed join token.
type Token struct {
	// CAHash is the hex SHA-256 of the cluster CA certificate file.
	CAHash string
	// Secret authenticates the agent to the join endpoint.
	Secret string
}

// String formats t as it is written to the token file.
func (t Token) String() string {
	return tokenPrefix + ":" + t.CAHash + ":" + t.Secret
}

// ParseToken reads a token in the form skiff:<ca hash>:<secret>.
func ParseToken(s string) (Token, error) {
	parts := strings.Split(strings.TrimSpace(s), ":")
	if len(parts) != 3 || parts[0] != tokenPrefix || len(parts[1]) != 64 || parts[2] == "" {
		return Token{}, errors.New("join: malformed token: want skiff:<ca hash>:<secret>, as in the server's DATA_DIR/token")
	}
	if _, err := hex.DecodeString(parts[1]); err != nil {
		return Token{}, errors.New("join: malformed token: the CA hash is not hex")
	}
	return Token{CAHash: parts[1], Secret: parts[2]}, nil
}

// HashCA is the token's hash of a CA certificate file's contents.
func HashCA(caPEM []byte) string {
	sum := sha256.Sum256(caPEM)
	return hex.EncodeToString(sum[:])
}

// EnsureToken returns the token kept at path, creating it (mode 0600) for
// the CA in caFile when it is missing or belongs to another CA.
func EnsureToken(path, caFile string) (Token, error) {
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		return Token{}, fmt.Errorf("join: %w", err)
	}
	hash := HashCA(caPEM)
	if data, err := os.ReadFile(path); err == nil {
		if t, err := ParseToken(string(data)); err == nil && t.CAHash == hash {
			return t, nil
		}
	}
	secret := make([]byte, 16)
	if _, err := rand.Read(secret); err != nil {
		return Token{}, fmt.Errorf("join: %w", err)
	}
	t := Token{CAHash: hash, Secret: hex.EncodeToString(secret)}
	if err := os.WriteFile(path, []byte(t.String()+"\n"), 0o600); err != nil {
		return Token{}, fmt.Errorf("join: %w", err)
	}
	return t, nil
}
