// Package mailpit runs Mailpit, a real SMTP server, for tests, and reads
// what it received through its HTTP API (GET /api/v1/messages). A test
// that needs it skips, saying why, only when the binary is absent: `make
// test` installs it (scripts/test-deps.sh) and sets CHURNWATCH_TEST_MAILPIT.
package mailpit

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"go/build"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Options shape the server.
type Options struct {
	// STARTTLS serves STARTTLS with a fresh self-signed certificate and
	// requires it before any mail; Server.ClientTLS trusts that certificate.
	STARTTLS bool
	// Users are the only credentials accepted (name to password); none =
	// any credentials, or none, are accepted.
	Users map[string]string
}

// Server is one running Mailpit.
type Server struct {
	SMTPAddr  string // 127.0.0.1:PORT
	APIURL    string // http://127.0.0.1:PORT
	ClientTLS *tls.Config
}

// Address is a sender or recipient as the API reports it.
type Address struct {
	Name    string
	Address string
}

// Message is one received message, decoded.
type Message struct {
	ID        string
	MessageID string
	From      Address
	To        []Address
	ReplyTo   []Address
	// ReturnPath is the envelope sender (SMTP MAIL FROM).
	ReturnPath string
	Subject    string
	Text       string // the plain-text body, decoded
}

// Binary is the Mailpit to run: CHURNWATCH_TEST_MAILPIT, else mailpit on
// PATH or in GOPATH/bin; "" when there is none.
func Binary() string {
	if p := os.Getenv("CHURNWATCH_TEST_MAILPIT"); p != "" {
		return p
	}
	if p, err := exec.LookPath("mailpit"); err == nil {
		return p
	}
	if p := filepath.Join(build.Default.GOPATH, "bin", "mailpit"); isFile(p) {
		return p
	}
	return ""
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// Start runs Mailpit on free loopback ports until the test ends.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	bin := Binary()
	if bin == "" {
		t.Skip("no Mailpit binary (make test installs it: go install github.com/axllent/mailpit@v1.27.11); set CHURNWATCH_TEST_MAILPIT to its path")
	}
	dir := t.TempDir()
	s := &Server{}
	args := []string{"--disable-version-check", "--quiet", "--smtp-disable-rdns", "--database", filepath.Join(dir, "mailpit.db")}
	if o.STARTTLS {
		cert, key, pool := selfSigned(t, dir)
		args = append(args, "--smtp-tls-cert", cert, "--smtp-tls-key", key, "--smtp-require-starttls")
		s.ClientTLS = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	} else {
		args = append(args, "--smtp-auth-allow-insecure")
	}
	if len(o.Users) > 0 {
		var lines strings.Builder
		for name, pw := range o.Users {
			fmt.Fprintf(&lines, "%s:%s\n", name, pw)
		}
		file := filepath.Join(dir, "smtp-users")
		if err := os.WriteFile(file, []byte(lines.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--smtp-auth-file", file)
	} else {
		args = append(args, "--smtp-auth-accept-any")
	}
	// A port picked free may be taken before Mailpit binds it: try again.
	for try := 1; ; try++ {
		smtpPort, httpPort := freePort(t), freePort(t)
		s.SMTPAddr = fmt.Sprintf("127.0.0.1:%d", smtpPort)
		s.APIURL = fmt.Sprintf("http://127.0.0.1:%d", httpPort)
		err := s.run(t, bin, append(args, "--smtp", s.SMTPAddr, "--listen", fmt.Sprintf("127.0.0.1:%d", httpPort)), dir)
		if err == nil {
			return s
		}
		if try == 3 {
			t.Fatalf("start mailpit: %v", err)
		}
	}
}

// run starts the process and waits until both its ports answer.
func (s *Server) run(t testing.TB, bin string, args []string, dir string) error {
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	logFile, err := os.CreateTemp(dir, "mailpit-*.log")
	if err != nil {
		return err
	}
	defer logFile.Close()
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	stop := func() {
		cmd.Process.Kill()
		<-exited
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-exited:
			out, _ := os.ReadFile(logFile.Name())
			return fmt.Errorf("mailpit exited: %s", out)
		default:
		}
		if s.ready() {
			t.Cleanup(stop)
			return nil
		}
		if time.Now().After(deadline) {
			stop()
			return fmt.Errorf("mailpit did not answer on %s and %s within 30s", s.SMTPAddr, s.APIURL)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *Server) ready() bool {
	c, err := net.DialTimeout("tcp", s.SMTPAddr, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	resp, err := http.Get(s.APIURL + "/api/v1/messages")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// Messages returns every message received so far, oldest first, each
// with its decoded plain-text body.
func (s *Server) Messages(t testing.TB) []Message {
	t.Helper()
	var list struct{ Messages []Message }
	s.get(t, "/api/v1/messages?limit=1000", &list)
	out := make([]Message, 0, len(list.Messages))
	for i := len(list.Messages) - 1; i >= 0; i-- { // the API lists newest first
		var full Message
		s.get(t, "/api/v1/message/"+list.Messages[i].ID, &full)
		out = append(out, full)
	}
	return out
}

// Raw returns a message's source as received.
func (s *Server) Raw(t testing.TB, id string) string {
	t.Helper()
	resp, err := http.Get(s.APIURL + "/api/v1/message/" + id + "/raw")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func (s *Server) get(t testing.TB, path string, v any) {
	t.Helper()
	resp, err := http.Get(s.APIURL + path)
	if err != nil {
		t.Fatalf("mailpit API: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("mailpit API GET %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("mailpit API GET %s: %v", path, err)
	}
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// selfSigned writes a certificate for 127.0.0.1 and its key into dir and
// returns their paths and a pool that trusts the certificate.
func selfSigned(t testing.TB, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "smtp.crt"), filepath.Join(dir, "smtp.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}
