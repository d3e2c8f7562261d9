// Package sourcetest starts real servers of the kinds of source in
// process, on loopback, for tests: an SFTP server (pkg/sftp over an
// x/crypto/ssh server with a generated host key) and an S3 endpoint
// (gofakes3 over httptest). Only tests import it.
package sourcetest

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// SFTP user and password of the test server.
const (
	User     = "erp"
	Password = "not-a-real-secret"
)

// SFTPServer is an SFTP server on 127.0.0.1 serving the real file system;
// tests put their files under Root.
type SFTPServer struct {
	Addr    string
	HostKey ssh.PublicKey
	Root    string // a folder of the test's, the usual place of the files

	cutAfter atomic.Int64  // bytes sent before a connection is closed
	cuts     atomic.Int32  // connections still to cut
	freeze   atomic.Bool   // the cut connections fall silent instead of closing
	thaw     chan struct{} // closed at the test's end: silent connections end
	conns    atomic.Int32  // connections accepted
	sent     atomic.Int64  // bytes of SFTP data written, all connections
	trickle  atomic.Bool   // the cut connections trickle a byte every 50 ms instead
	wg       sync.WaitGroup

	writeLimit    atomic.Int64 // file data written before a write fails
	writeFault    atomic.Int32 // how it fails: a WriteFault
	writeFaults   atomic.Int32 // connections still to fail so
	noPosixRename atomic.Bool  // see WithoutPosixRename
	fsync         atomic.Int32 // see WithFsync: 0 not offered, 1 answered OK, 2 answered failure
	observer      atomic.Pointer[func(op string)]
	cutOp         atomic.Pointer[string] // see CutAtRequest
	cutOpLeft     atomic.Int32           // requests of cutOp still to pass
}

// NewSFTPServer starts a server that lives as long as the test.
func NewSFTPServer(tb testing.TB) *SFTPServer {
	tb.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	cfg := &ssh.ServerConfig{PasswordCallback: func(c ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
		if c.User() == User && string(pw) == Password {
			return nil, nil
		}
		return nil, errors.New("wrong user or password")
	}}
	cfg.AddHostKey(signer)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s := &SFTPServer{Addr: ln.Addr().String(), HostKey: signer.PublicKey(), Root: tb.TempDir(), thaw: make(chan struct{})}
	var live sync.Map // net.Conn → struct{}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			live.Store(nc, struct{}{})
			s.conns.Add(1)
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer live.Delete(nc)
				s.serve(nc, cfg)
			}()
		}
	}()
	tb.Cleanup(func() {
		close(s.thaw)
		ln.Close()
		live.Range(func(k, _ any) bool { k.(net.Conn).Close(); return true })
		s.wg.Wait()
	})
	return s
}

// Connections is the number of connections accepted so far.
func (s *SFTPServer) Connections() int { return int(s.conns.Load()) }

// CutAfter makes the next n connections close after sending about bytes
// of SFTP data: a transfer cut in the middle.
func (s *SFTPServer) CutAfter(bytes int64, n int) {
	s.freeze.Store(false)
	s.trickle.Store(false)
	s.cutAfter.Store(bytes)
	s.cuts.Store(int32(n))
}

// Sent is the number of bytes of SFTP data sent so far.
func (s *SFTPServer) Sent() int64 { return s.sent.Load() }

// TrickleAfter makes the next n connections, after about bytes of SFTP
// data, send one byte every 50 ms while still answering keepalives: a
// transfer that never ends and never quite stops.
func (s *SFTPServer) TrickleAfter(bytes int64, n int) {
	s.CutAfter(bytes, n)
	s.trickle.Store(true)
}

// FreezeAfter makes the next n connections fall silent after sending
// about bytes of SFTP data: the TCP connection stays up, the server
// answers nothing more, not even to keepalives (a hung server).
func (s *SFTPServer) FreezeAfter(bytes int64, n int) {
	s.CutAfter(bytes, n)
	s.freeze.Store(true)
}

// KnownHosts writes a known_hosts file that trusts key for this server
// and returns its path.
func (s *SFTPServer) KnownHosts(tb testing.TB, key ssh.PublicKey) string {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), "known_hosts")
	line := knownhosts.Line([]string{s.Addr}, key) + "\n"
	if err := os.WriteFile(p, []byte(line), 0o600); err != nil {
		tb.Fatal(err)
	}
	return p
}

// URL is sftp://erp@addr<path>, path absolute on the server.
func (s *SFTPServer) URL(path string) string {
	return "sftp://" + User + "@" + s.Addr + filepath.ToSlash(path)
}

func (s *SFTPServer) serve(nc net.Conn, cfg *ssh.ServerConfig) {
	defer nc.Close()
	_, chans, reqs, err := ssh.NewServerConn(nc, cfg)
	if err != nil {
		return
	}
	var limit int64 = -1
	if s.cuts.Add(-1) >= 0 {
		limit = s.cutAfter.Load()
	}
	var fault WriteFault
	var wlimit int64
	if s.writeFaults.Add(-1) >= 0 {
		fault, wlimit = WriteFault(s.writeFault.Load()), s.writeLimit.Load()
	}
	silent := make(chan struct{})
	hush := sync.OnceFunc(func() { close(silent) })
	go answerRequests(reqs, silent)
	for nch := range chans {
		if nch.ChannelType() != "session" {
			_ = nch.Reject(ssh.UnknownChannelType, "sessions only")
			continue
		}
		ch, creqs, err := nch.Accept()
		if err != nil {
			return
		}
		cut := &cutter{ch: ch, nc: nc, left: limit, freeze: s.freeze.Load(),
			trickle: s.trickle.Load(), sent: &s.sent, hush: hush, thaw: s.thaw}
		go s.session(ch, creqs, &packets{s: s, rw: cut, nc: nc, hush: hush, fault: fault, limit: wlimit})
	}
}

// answerRequests refuses the connection's global requests (keepalives
// among them), until the connection falls silent: then it answers none.
func answerRequests(reqs <-chan *ssh.Request, silent <-chan struct{}) {
	for req := range reqs {
		select {
		case <-silent:
		default:
			if req.WantReply {
				_ = req.Reply(false, nil)
			}
		}
	}
}

// session starts the sftp subsystem when asked.
func (s *SFTPServer) session(ch ssh.Channel, reqs <-chan *ssh.Request, rw io.ReadWriteCloser) {
	defer ch.Close()
	for req := range reqs {
		ok := req.Type == "subsystem" && len(req.Payload) > 4 && string(req.Payload[4:]) == "sftp"
		_ = req.Reply(ok, nil)
		if !ok {
			continue
		}
		srv, err := sftp.NewServer(rw)
		if err != nil {
			return
		}
		_ = srv.Serve()
		srv.Close()
		return
	}
}

// cutter closes the TCP connection once left bytes were written (left < 0:
// never).
type cutter struct {
	ch      ssh.Channel
	nc      net.Conn
	mu      sync.Mutex
	left    int64
	freeze  bool // fall silent instead of closing
	trickle bool // send a byte every 50 ms instead of closing
	sent    *atomic.Int64
	hush    func()        // the connection falls silent
	thaw    chan struct{} // the test's end
}

func (c *cutter) Read(p []byte) (int, error) { return c.ch.Read(p) }
func (c *cutter) Close() error               { return c.ch.Close() }

func (c *cutter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, err := c.write(p)
	c.sent.Add(int64(n))
	return n, err
}

func (c *cutter) write(p []byte) (int, error) {
	if c.left < 0 {
		return c.ch.Write(p)
	}
	if int64(len(p)) > c.left && c.trickle {
		return c.trickleOut(p)
	}
	if int64(len(p)) > c.left {
		n, _ := c.ch.Write(p[:c.left])
		if c.freeze {
			c.hush()
			<-c.thaw // a hung server: nothing more until the test ends
		}
		c.nc.Close()
		c.left = 0
		return n, io.ErrClosedPipe
	}
	c.left -= int64(len(p))
	return c.ch.Write(p)
}

// trickleOut sends p one byte every 50 ms, until the client hangs up or
// the test ends.
func (c *cutter) trickleOut(p []byte) (int, error) {
	n, err := c.ch.Write(p[:c.left])
	c.left = 0
	for err == nil && n < len(p) {
		select {
		case <-c.thaw:
			return n, io.ErrClosedPipe
		case <-time.After(50 * time.Millisecond):
		}
		var k int
		k, err = c.ch.Write(p[n : n+1])
		n += k
	}
	return n, err
}
