package sourcetest

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"sync"
)

// WriteFault is what the server does with a write of file data that
// FailWrites makes fail.
type WriteFault int32

const (
	// RefuseWrite answers the write SSH_FX_FAILURE and writes nothing of
	// it (a full disk, a quota); every later write fails so too.
	RefuseWrite WriteFault = iota + 1
	// CutWrite closes the connection on the write's receipt: a cut line.
	CutWrite
	// HangWrite answers neither the write nor anything after it, not even
	// keepalives, until the test ends: a hung server.
	HangWrite
)

// FailWrites makes the next n connections meet fault at the first write
// of file data that would take what they wrote past bytes (0: the first
// write); the writes before it go through.
func (s *SFTPServer) FailWrites(bytes int64, n int, fault WriteFault) {
	s.writeLimit.Store(bytes)
	s.writeFault.Store(int32(fault))
	s.writeFaults.Store(int32(n))
}

// CutAtRequest closes the connection that sends the request op (as
// Observe names them) after n of them went through, on any connection,
// before the server handles it: a line cut between two steps of a
// client's. Once.
func (s *SFTPServer) CutAtRequest(op string, n int) {
	s.cutOpLeft.Store(int32(n))
	s.cutOp.Store(&op)
}

// WithoutPosixRename makes the server one without the
// posix-rename@openssh.com extension, as many are: it does not offer it,
// answers it as unsupported, and its plain rename refuses a name that
// exists, as OpenSSH's sftp-server does (pkg/sftp's own replaces it).
// Call it before the first connection: one made before was offered it.
func (s *SFTPServer) WithoutPosixRename() { s.noPosixRename.Store(true) }

// PosixRename is the extension's name, as Observe gives its requests.
const PosixRename = "posix-rename@openssh.com"

// Fsync is the name of OpenSSH's extension that syncs an open file on
// the server's disk, as Observe gives its requests.
const Fsync = "fsync@openssh.com"

// WithFsync makes the server offer Fsync, as OpenSSH's does (pkg/sftp's
// own server does not): its requests are answered OK, or, when fails,
// SSH_FX_FAILURE (a disk that cannot write). Call it before the first
// connection: one made before was not offered it.
func (s *SFTPServer) WithFsync(fails bool) {
	s.fsync.Store(map[bool]int32{false: 1, true: 2}[fails])
}

// Observe calls fn with the name of each request a client sends ("open",
// "write", "close", "rename", "remove", PosixRename …), on any connection,
// before the server handles it; nil stops. A pkg/sftp client waits for
// each answer, so fn sees the files as another reader could between two
// requests. fn runs on the connection's goroutine: the request waits for it.
func (s *SFTPServer) Observe(fn func(op string)) {
	if fn == nil {
		s.observer.Store(nil)
		return
	}
	s.observer.Store(&fn)
}

// SFTP version 3's packet types and status codes that the faults use.
const (
	fxpVersion  = 2
	fxpWrite    = 6
	fxpRename   = 18
	fxpStatus   = 101
	fxpExtended = 200

	fxOK            = 0
	fxFailure       = 4
	fxOpUnsupported = 8
)

var opNames = map[byte]string{1: "init", 3: "open", 4: "close", 5: "read", 6: "write", 7: "lstat",
	8: "fstat", 9: "setstat", 10: "fsetstat", 11: "opendir", 12: "readdir", 13: "remove", 14: "mkdir",
	15: "rmdir", 16: "realpath", 17: "stat", 18: "rename", 19: "readlink", 20: "symlink"}

// packets stands between the SFTP server and its connection, a whole
// packet at a time: it shows the client's requests to the test's
// observer, plays the faults, and answers in the server's stead.
type packets struct {
	s     *SFTPServer
	rw    io.ReadWriteCloser // the connection (a cutter)
	nc    net.Conn
	hush  func() // the connection falls silent
	fault WriteFault
	limit int64 // file data written before fault
	wrote int64
	in    []byte // what the server has still to read of the request in hand

	mu   sync.Mutex // one whole packet at a time to the client
	out  []byte     // the server's packet being written, until whole
	sent bool       // the first (VERSION) packet went
}

func (p *packets) Close() error { return p.rw.Close() }

func (p *packets) Read(b []byte) (int, error) {
	for len(p.in) == 0 {
		pkt, err := readPacket(p.rw)
		if err != nil {
			return 0, err
		}
		pass, err := p.request(pkt)
		if err != nil {
			return 0, err
		}
		if pass {
			p.in = pkt
		}
	}
	n := copy(b, p.in)
	p.in = p.in[n:]
	return n, nil
}

func readPacket(r io.Reader) ([]byte, error) {
	var head [4]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(head[:])
	if n == 0 || n > 1<<20 {
		return nil, errors.New("sourcetest: an SFTP packet of a wrong length")
	}
	pkt := make([]byte, 4+n)
	copy(pkt, head[:])
	_, err := io.ReadFull(r, pkt[4:])
	return pkt, err
}

// request shows a client's request to the observer and says whether the
// server gets it (false: it was answered here).
func (p *packets) request(pkt []byte) (bool, error) {
	typ, body := pkt[4], pkt[5:]
	op := opName(typ, body)
	if fn := p.s.observer.Load(); fn != nil {
		(*fn)(op)
	}
	if cut := p.s.cutOp.Load(); cut != nil && *cut == op && p.s.cutOpLeft.Add(-1) == -1 {
		p.s.cutOp.Store(nil)
		p.nc.Close()
		return false, io.ErrClosedPipe
	}
	switch {
	case typ == fxpWrite && p.fault != 0:
		return p.write(body)
	case typ == fxpRename && p.s.noPosixRename.Load():
		return p.renameNoReplace(body)
	case op == PosixRename && p.s.noPosixRename.Load():
		id, _, _ := u32(body)
		return false, p.status(id, fxOpUnsupported, "unsupported request")
	case op == Fsync && p.s.fsync.Load() == 1:
		id, _, _ := u32(body)
		return false, p.status(id, fxOK, "")
	case op == Fsync && p.s.fsync.Load() == 2:
		id, _, _ := u32(body)
		return false, p.status(id, fxFailure, "sourcetest: fsync failed (a disk that cannot write)")
	}
	return true, nil
}

func opName(typ byte, body []byte) string {
	if typ == fxpExtended {
		_, rest, _ := u32(body)
		name, _, _ := str(rest)
		return string(name)
	}
	if name, ok := opNames[typ]; ok {
		return name
	}
	return "other"
}

// write plays the fault on a write past the limit.
func (p *packets) write(body []byte) (bool, error) {
	id, rest, ok := u32(body)
	_, rest, ok2 := str(rest) // the handle
	if !ok || !ok2 || len(rest) < 8 {
		return true, nil // the server's to refuse
	}
	data, _, ok := str(rest[8:]) // after the offset
	if !ok || p.wrote+int64(len(data)) <= p.limit {
		p.wrote += int64(len(data))
		return true, nil
	}
	switch p.fault {
	case RefuseWrite:
		return false, p.status(id, fxFailure, "sourcetest: write refused (a full disk)")
	case HangWrite:
		p.hush()
		<-p.s.thaw
	}
	p.nc.Close()
	return false, io.ErrClosedPipe
}

// renameNoReplace refuses a plain rename onto a name that exists.
func (p *packets) renameNoReplace(body []byte) (bool, error) {
	id, rest, ok := u32(body)
	_, rest, ok2 := str(rest)
	to, _, ok3 := str(rest)
	if !ok || !ok2 || !ok3 {
		return true, nil
	}
	if _, err := os.Lstat(string(to)); err == nil {
		return false, p.status(id, fxFailure, "failure")
	}
	return true, nil
}

// status answers request id with a status.
func (p *packets) status(id, code uint32, msg string) error {
	b := binary.BigEndian.AppendUint32(nil, 0)
	b = append(b, fxpStatus)
	b = binary.BigEndian.AppendUint32(b, id)
	b = binary.BigEndian.AppendUint32(b, code)
	b = appendStr(b, []byte(msg))
	b = appendStr(b, nil) // language
	binary.BigEndian.PutUint32(b, uint32(len(b)-4))
	p.mu.Lock()
	defer p.mu.Unlock()
	_, err := p.rw.Write(b)
	return err
}

// Write passes the server's answers on, a whole packet at a time (an
// answer of the faults' never falls between two parts of one); the
// first, VERSION, loses posix-rename when the server is without it.
func (p *packets) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.out = append(p.out, b...)
	for len(p.out) >= 4 {
		n := 4 + int(binary.BigEndian.Uint32(p.out))
		if len(p.out) < n {
			break
		}
		pkt := p.out[:n]
		if !p.sent && pkt[4] == fxpVersion && p.s.noPosixRename.Load() {
			pkt = withoutExtension(pkt, PosixRename)
		}
		if !p.sent && pkt[4] == fxpVersion && p.s.fsync.Load() != 0 {
			pkt = withExtension(pkt, Fsync, "1")
		}
		p.sent = true
		if _, err := p.rw.Write(pkt); err != nil {
			return 0, err
		}
		p.out = append(p.out[:0], p.out[n:]...)
	}
	return len(b), nil
}

// withoutExtension returns a VERSION packet without the extension name.
func withoutExtension(pkt []byte, name string) []byte {
	out := append([]byte(nil), pkt[:9]...) // length, type, version
	rest := pkt[9:]
	for len(rest) > 0 {
		ext, r, ok := str(rest)
		data, r, ok2 := str(r)
		if !ok || !ok2 {
			return pkt
		}
		if string(ext) != name {
			out = appendStr(appendStr(out, ext), data)
		}
		rest = r
	}
	binary.BigEndian.PutUint32(out, uint32(len(out)-4))
	return out
}

// withExtension returns a VERSION packet that offers the extension name
// too, with data.
func withExtension(pkt []byte, name, data string) []byte {
	out := appendStr(appendStr(append([]byte(nil), pkt...), []byte(name)), []byte(data))
	binary.BigEndian.PutUint32(out, uint32(len(out)-4))
	return out
}

func u32(b []byte) (uint32, []byte, bool) {
	if len(b) < 4 {
		return 0, b, false
	}
	return binary.BigEndian.Uint32(b), b[4:], true
}

func str(b []byte) ([]byte, []byte, bool) {
	n, rest, ok := u32(b)
	if !ok || uint64(len(rest)) < uint64(n) {
		return nil, b, false
	}
	return rest[:n], rest[n:], true
}

func appendStr(b, s []byte) []byte {
	return append(binary.BigEndian.AppendUint32(b, uint32(len(s))), s...)
}
