package source

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path"
	"regexp"
	"strings"
	gosync "sync"
	"time"

	"github.com/pkg/sftp"
	"go.uber.org/zap"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// sftpStore is a folder on an SFTP server. It dials on first use and
// again after a connection was lost.
type sftpStore struct {
	remote
	addr    string
	config  *ssh.ClientConfig
	timeout time.Duration
	stall   time.Duration // source.stall_timeout
	max     int64         // source.max_bytes
	// warn, when the host key is not checked, says so at every listing:
	// every run and every tick of serve.
	warn func()

	mu     gosync.Mutex
	ssh    *ssh.Client
	client *sftp.Client
}

func newSFTP(pattern string, cfg Settings, opt Options) (*sftpStore, error) {
	r, err := parseRemote(pattern, cfg.ArchiveDir)
	if err != nil {
		return nil, err
	}
	where := Redact(pattern)
	if _, has := r.url.User.Password(); has {
		return nil, configError(where, errors.New("a password in the URL: put it in an environment variable named by source.sftp.password_env"))
	}
	if r.url.User.Username() == "" {
		return nil, configError(where, errors.New("no user: want sftp://user@host/dir/*.csv"))
	}
	auth, err := sftpAuth(cfg.SFTP, opt)
	if err != nil {
		return nil, configError(where, err)
	}
	hostKey, err := hostKeyCheck(cfg.SFTP)
	if err != nil {
		return nil, configError(where, err)
	}
	s := &sftpStore{remote: r, addr: r.url.Host, timeout: cfg.SFTP.Timeout, stall: stallAfter(cfg), max: maxBytesOf(cfg), warn: func() {}}
	if cfg.SFTP.InsecureIgnoreHostKey {
		s.warn = func() {
			opt.log().Warn("sftp: the server's host key is NOT checked (source.sftp.insecure_ignore_host_key: true); anyone in the path can pose as the server",
				zap.String("source", where))
		}
	}
	if r.url.Port() == "" {
		s.addr = net.JoinHostPort(r.url.Hostname(), "22")
	}
	if s.timeout <= 0 {
		s.timeout = 30 * time.Second
	}
	s.config = &ssh.ClientConfig{User: r.url.User.Username(), Auth: auth, HostKeyCallback: hostKey, Timeout: s.timeout}
	return s, nil
}

// sftpAuth reads the key file or the password; the secrets come from
// environment variables only.
func sftpAuth(c SFTPConfig, opt Options) ([]ssh.AuthMethod, error) {
	if err := checkEnvName("sftp.password_env", c.PasswordEnv); err != nil {
		return nil, err
	}
	if err := checkEnvName("sftp.passphrase_env", c.PassphraseEnv); err != nil {
		return nil, err
	}
	var methods []ssh.AuthMethod
	if c.KeyFile != "" {
		pem, err := os.ReadFile(c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("sftp.key_file: %w", err)
		}
		signer, err := ssh.ParsePrivateKey(pem)
		var missing *ssh.PassphraseMissingError
		if errors.As(err, &missing) {
			if c.PassphraseEnv == "" || opt.getenv(c.PassphraseEnv) == "" {
				return nil, fmt.Errorf("sftp.key_file %s has a passphrase: set sftp.passphrase_env and that variable", c.KeyFile)
			}
			signer, err = ssh.ParsePrivateKeyWithPassphrase(pem, []byte(opt.getenv(c.PassphraseEnv)))
		}
		if err != nil {
			return nil, fmt.Errorf("sftp.key_file %s: %w", c.KeyFile, err)
		}
		methods = append(methods, ssh.PublicKeys(signer))
	}
	if c.PasswordEnv != "" {
		pw := opt.getenv(c.PasswordEnv)
		if pw == "" && plainEnvName(c.PasswordEnv) {
			return nil, fmt.Errorf("sftp.password_env: the variable %s is empty or unset", c.PasswordEnv)
		}
		if pw == "" {
			return nil, errors.New("sftp.password_env: the variable it names is empty or unset (a name not in capitals is not shown: it may be a secret)")
		}
		methods = append(methods, ssh.Password(pw))
	}
	if len(methods) == 0 {
		return nil, errors.New("sftp: set key_file or password_env")
	}
	return methods, nil
}

// envName is the name of an environment variable.
var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// checkEnvName refuses a key naming the variable of a secret whose value
// is no variable's name: most likely the secret itself, pasted in. The
// value is never shown. "" (the key unset) passes.
func checkEnvName(key, name string) error {
	if name == "" || (envName.MatchString(name) && len(name) <= 128) {
		return nil
	}
	return fmt.Errorf("%s is not the name of an environment variable (letters, digits and _, such as ERP_SFTP_PASSWORD); its value is not shown: if it is the secret itself, remove it from the file and set it in a variable", key)
}

// plainEnvName says whether a variable's name may be shown in an error:
// one written as such names are (ERP_SFTP_PASSWORD), not a secret of
// letters and digits pasted in its place.
func plainEnvName(name string) bool {
	return len(name) <= 64 && strings.ToUpper(name) == name && envName.MatchString(name)
}

// hostKeyCheck checks the server against known_hosts. Only an explicit
// insecure_ignore_host_key skips it, with a warning at every run.
func hostKeyCheck(c SFTPConfig) (ssh.HostKeyCallback, error) {
	if c.InsecureIgnoreHostKey {
		return ssh.InsecureIgnoreHostKey(), nil
	}
	if c.KnownHosts == "" {
		return nil, errors.New("sftp.known_hosts is not set: give the file of trusted host keys (ssh-keyscan -H host >> known_hosts, then check the fingerprint)")
	}
	check, err := knownhosts.New(c.KnownHosts)
	if err != nil {
		return nil, fmt.Errorf("sftp.known_hosts: %w", err)
	}
	return func(host string, remote net.Addr, key ssh.PublicKey) error {
		err := check(host, remote, key)
		var ke *knownhosts.KeyError
		switch {
		case errors.As(err, &ke) && len(ke.Want) == 0:
			return fmt.Errorf("host %s is not in known_hosts %s (its %s key is %s): connection refused",
				host, c.KnownHosts, key.Type(), ssh.FingerprintSHA256(key))
		case errors.As(err, &ke):
			return fmt.Errorf("host %s offered a %s key %s that does not match known_hosts %s: connection refused (a changed server, or someone posing as it)",
				host, key.Type(), ssh.FingerprintSHA256(key), c.KnownHosts)
		}
		return err
	}, nil
}

func (s *sftpStore) stallTimeout() time.Duration { return s.stall }
func (s *sftpStore) maxBytes() int64             { return s.max }

func (s *sftpStore) Kind() string       { return KindSFTP }
func (s *sftpStore) String() string     { return s.url.Redacted() }
func (s *sftpStore) ArchiveDir() string { return s.archive }

func (s *sftpStore) Join(dir, name string) string { return path.Join(dir, name) }

// conn returns the SFTP client, dialling when there is none.
func (s *sftpStore) conn(ctx context.Context) (*sftp.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.client != nil {
		return s.client, nil
	}
	d := net.Dialer{Timeout: s.timeout}
	nc, err := d.DialContext(ctx, "tcp", s.addr)
	if err != nil {
		return nil, fmt.Errorf("sftp %s: %w", s.String(), err)
	}
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	defer stop()
	_ = nc.SetDeadline(time.Now().Add(s.timeout))
	c, chans, reqs, err := ssh.NewClientConn(nc, s.addr, s.config)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("sftp %s: %w", s.String(), err)
	}
	_ = nc.SetDeadline(time.Time{})
	s.ssh = ssh.NewClient(c, chans, reqs)
	go keepAlive(s.ssh, s.timeout)
	if s.client, err = sftp.NewClient(s.ssh); err != nil {
		s.ssh.Close()
		s.ssh = nil
		return nil, fmt.Errorf("sftp %s: start the sftp subsystem: %w", s.String(), err)
	}
	return s.client, nil
}

// keepAlive asks the server for a sign of life every interval; a server
// that does not answer within it (the connection up, the server silent)
// gets its connection closed, so that a listing or a transfer blocked on
// it fails and is retried, instead of hanging serve's tick for ever. It
// ends with the connection.
func keepAlive(c *ssh.Client, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for range t.C {
		answered := make(chan error, 1)
		go func() {
			_, _, err := c.SendRequest("keepalive@openssh.com", true, nil)
			answered <- err
		}()
		select {
		case err := <-answered:
			if err != nil {
				return // the connection is gone (a refusal of the request is an answer too)
			}
		case <-time.After(interval):
			c.Close()
			return
		}
	}
}

// drop closes the connection; the next call dials again.
func (s *sftpStore) drop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.client != nil {
		// The connection first: the SFTP client's close waits for its
		// reader, which a server trickling bytes would keep busy.
		s.ssh.Close()
		s.client.Close()
	}
	s.client, s.ssh = nil, nil
}

// do runs op on the client; a cancelled ctx closes the connection so that
// op returns (and drops it; other failures keep it).
func (s *sftpStore) do(ctx context.Context, op func(*sftp.Client) error) error {
	c, err := s.conn(ctx)
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, s.drop)
	defer stop()
	if err := op(c); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	}
	return nil
}

// List reads the folder, which must answer within stall_timeout: a
// server that trickles its listing is cut (one that falls silent is also
// dropped by the keepalive).
func (s *sftpStore) List(ctx context.Context) ([]Entry, error) {
	s.warn()
	lctx, cancel := context.WithTimeoutCause(ctx, s.stall, errStalled)
	defer cancel()
	var out []Entry
	err := s.do(lctx, func(c *sftp.Client) error {
		infos, err := c.ReadDirContext(lctx, s.dir)
		if err != nil {
			return fmt.Errorf("sftp list %s: %w", s.dir, err)
		}
		for _, fi := range infos {
			if fi.Mode().IsRegular() && s.matches(fi.Name()) {
				out = append(out, Entry{Name: path.Join(s.dir, fi.Name()), Size: fi.Size(), ModTime: fi.ModTime()})
			}
		}
		return nil
	})
	if err != nil && ctx.Err() == nil && errors.Is(context.Cause(lctx), errStalled) {
		return nil, fmt.Errorf("sftp list %s: no answer within source.stall_timeout %s", s.String(), s.stall)
	}
	return out, err
}

func (s *sftpStore) Open(ctx context.Context, e Entry) (io.ReadCloser, error) {
	c, err := s.conn(ctx)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, s.drop) // a cancelled (or stalled) copy drops the connection
	f, err := s.openFile(c, e.Name)
	if err != nil {
		stop()
		return nil, err
	}
	return &sftpReader{f: f, s: s, stop: stop}, nil
}

// openFile opens a regular file, never through a link: the entry's own
// type is checked just before the open (a link swapped in since the
// listing, or listed by a server that follows links, is not read).
func (s *sftpStore) openFile(c *sftp.Client, name string) (*sftp.File, error) {
	fi, err := c.Lstat(name)
	if err != nil {
		s.drop()
		return nil, fmt.Errorf("sftp stat %s: %w", name, err)
	}
	if fi.Mode()&os.ModeSymlink != 0 {
		return nil, linkError(Locate(s, name))
	}
	if !fi.Mode().IsRegular() {
		return nil, configError(Locate(s, name), errors.New("not a regular file"))
	}
	f, err := c.Open(name)
	if err != nil {
		s.drop()
		return nil, fmt.Errorf("sftp open %s: %w", name, err)
	}
	return f, nil
}

// sftpReader drops the connection when a read fails: a cut transfer is
// retried on a new one.
type sftpReader struct {
	f    *sftp.File
	s    *sftpStore
	stop func() bool
}

func (r *sftpReader) Read(p []byte) (int, error) {
	n, err := r.f.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		r.s.drop()
	}
	return n, err
}

func (r *sftpReader) Close() error {
	r.stop()
	return r.f.Close()
}

func (s *sftpStore) Exists(ctx context.Context, name string) (bool, error) {
	var found bool
	err := s.do(ctx, func(c *sftp.Client) error {
		_, err := c.Stat(name)
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		found = err == nil
		return err
	})
	return found, err
}

// Move checks the file against its listing (size and time) just before
// the rename.
func (s *sftpStore) Move(ctx context.Context, e Entry, to string) error {
	from := e.Name
	return s.do(ctx, func(c *sftp.Client) error {
		if e.listed() {
			fi, err := c.Stat(from)
			if err != nil {
				return fmt.Errorf("sftp stat %s: %w", from, err)
			}
			if e.changed(fi.Size(), fi.ModTime()) {
				return fmt.Errorf("sftp archive %s: %w", from, ErrChanged)
			}
		}
		if err := c.MkdirAll(path.Dir(to)); err != nil {
			return fmt.Errorf("sftp mkdir %s: %w", path.Dir(to), err)
		}
		if err := c.Rename(from, to); err != nil {
			return fmt.Errorf("sftp rename %s to %s: %w", from, to, err)
		}
		return nil
	})
}

// Put writes a small file (a rejected export's .error.txt, a held
// export's .held.txt) whole or not at all, as local's Put does: into a
// temporary file beside it, closed, then renamed into place, so that the
// ERP side never finds it empty or cut and a failed write leaves nothing
// under its name. The temporary name, .erpsync-<random>.tmp, is never
// listed as an export (notExport); it is synced where the server offers
// fsync@openssh.com. The whole put is one transfer, bounded by
// source.stall_timeout; a failed one is settled within a bound of its
// own (settle), and succeeds after all when settle puts the new file,
// written whole, in place.
func (s *sftpStore) Put(ctx context.Context, name string, data []byte) error {
	pctx, cancel := context.WithTimeoutCause(ctx, s.stall, errStalled)
	defer cancel()
	p := &putFiles{tmp: putTemp(name)}
	err := s.do(pctx, func(c *sftp.Client) error {
		if err := writeNew(c, p.tmp, data); err != nil {
			return err
		}
		p.written = true
		return renameOver(c, p, name)
	})
	if err == nil {
		return nil
	}
	if ctx.Err() == nil && errors.Is(context.Cause(pctx), errStalled) {
		err = fmt.Errorf("no answer within source.stall_timeout %s", s.stall)
	}
	// On a bound of its own: a stall spent the put's.
	sctx, scancel := context.WithTimeout(ctx, s.stall)
	defer scancel()
	put, serr := s.settle(sctx, p, name)
	switch {
	case put == p.tmp:
		// Whole, and in place after all (on a new connection); a
		// temporary its settle could not remove is never listed, as
		// renameOver's older file.
		return nil
	case serr != nil:
		return fmt.Errorf("sftp put %s: %w; %s may be left beside it (no listing takes them): %v", name, err, p.left(), serr)
	case put == "":
		return fmt.Errorf("sftp put %s: %w", name, err)
	}
	return fmt.Errorf("sftp put %s (the older one put back): %w", name, err)
}

// putFiles are the names a put moves through: its temporary file,
// whether that was written whole, and the name the older file was moved
// aside to (a server without posix-rename), if it was.
type putFiles struct {
	tmp, aside string
	written    bool
}

// left names the temporary files a put may leave.
func (p *putFiles) left() string {
	if p.aside == "" {
		return "the temporary " + path.Base(p.tmp)
	}
	return "the temporaries " + path.Base(p.tmp) + " and " + path.Base(p.aside) + " (the older file)"
}

// writeNew writes data into a new file (0640), never into one that exists.
func writeNew(c *sftp.Client, name string, data []byte) error {
	f, err := c.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return fmt.Errorf("create %s: %w", path.Base(name), err)
	}
	// Not for every user of the server, as on a local disk, before a byte
	// is written; a server that will not set modes still gets the text.
	_ = f.Chmod(0o640)
	n, err := f.Write(data)
	if err == nil && n < len(data) {
		err = io.ErrShortWrite
	}
	if err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path.Base(name), err)
	}
	// On the server's disk before its rename, where the server can say
	// so (fsync@openssh.com): a crash there then never leaves the name
	// with nothing in it.
	if v, ok := c.HasExtension("fsync@openssh.com"); ok && v == "1" {
		if err := f.Sync(); err != nil {
			f.Close()
			return fmt.Errorf("sync %s: %w", path.Base(name), err)
		}
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", path.Base(name), err)
	}
	return nil
}

// renameOver moves p's temporary onto name. With
// posix-rename@openssh.com (OpenSSH and most servers offer it) a file
// already there is replaced in one step. Without it, a plain rename,
// which servers refuse onto a name that exists (OpenSSH's says
// SSH_FX_FAILURE): the newer text is the one that speaks of the file now
// beside it, so the regular file there is renamed aside (p.aside, a name
// no listing takes), the new one renamed in, and the old one removed. A
// reader may find none for a moment, never a part; if the new one cannot
// go in, settle puts the old one back.
func renameOver(c *sftp.Client, p *putFiles, name string) error {
	tmp := p.tmp
	if _, ok := c.HasExtension("posix-rename@openssh.com"); ok {
		if err := c.PosixRename(tmp, name); err != nil {
			return fmt.Errorf("rename %s to %s: %w", path.Base(tmp), name, err)
		}
		return nil
	}
	err := c.Rename(tmp, name)
	if err == nil {
		return nil
	}
	var se *sftp.StatusError
	if !errors.As(err, &se) || se.FxCode() != sftp.ErrSSHFxFailure {
		return fmt.Errorf("rename %s to %s: %w", path.Base(tmp), name, err)
	}
	if fi, serr := c.Lstat(name); serr != nil || !fi.Mode().IsRegular() {
		return fmt.Errorf("rename %s to %s: %w", path.Base(tmp), name, err)
	}
	p.aside = putTemp(name) // before the request: its answer may be lost
	if err := c.Rename(name, p.aside); err != nil {
		return fmt.Errorf("rename %s to %s: the file there cannot be moved aside: %w", path.Base(tmp), name, err)
	}
	if err := c.Rename(tmp, name); err != nil {
		return fmt.Errorf("rename %s to %s: %w", path.Base(tmp), name, err)
	}
	// Only the older reason, under a name no listing takes, if this fails.
	_ = c.Remove(p.aside)
	return nil
}

// putTemp is a new temporary name beside name (notExport).
func putTemp(name string) string {
	return path.Join(path.Dir(name), putTempPrefix+rand.Text()[:16]+putTempSuffix)
}

// settle leaves a failed put's files as they should be, within ctx, on
// the connection if it still answers, else on a new one: when nothing is
// under name, the new file goes in if it was written whole, else the
// older one is put back from aside; then the temporary files left are
// removed. It returns which of p's files it put under name, if any,
// whether or not a later step failed.
func (s *sftpStore) settle(ctx context.Context, p *putFiles, name string) (put string, err error) {
	op := func(c *sftp.Client) error {
		var from []string // what goes under name if nothing is there: the new file first
		if _, err := c.Lstat(name); errors.Is(err, os.ErrNotExist) {
			if p.written {
				from = append(from, p.tmp)
			}
			if p.aside != "" {
				from = append(from, p.aside)
			}
		} else if err != nil {
			return fmt.Errorf("look for %s: %w", path.Base(name), err)
		}
		var failed error
		for _, f := range from {
			err := c.Rename(f, name)
			if err == nil {
				put = f
				break
			}
			if !errors.Is(err, os.ErrNotExist) { // gone: the next one
				failed = fmt.Errorf("rename %s to %s: %w", path.Base(f), path.Base(name), err)
			}
		}
		if put == "" && failed != nil {
			return failed // the files kept for the error to name
		}
		for _, f := range []string{p.tmp, p.aside} {
			if f == "" || f == put {
				continue
			}
			if err := c.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("remove %s: %w", path.Base(f), err)
			}
		}
		return nil
	}
	if ctx.Err() != nil {
		return "", errors.New("no time left to settle them")
	}
	err = s.do(ctx, op)
	if err != nil && ctx.Err() == nil {
		s.drop() // the connection may be what failed: once more on a new one
		err = s.do(ctx, op)
	}
	if err != nil {
		s.drop()
		return put, err
	}
	return put, nil
}

func (s *sftpStore) Close() error {
	s.drop()
	return nil
}
