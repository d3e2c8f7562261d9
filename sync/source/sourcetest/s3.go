package sourcetest

import (
	"bytes"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// S3Server is an S3 endpoint on 127.0.0.1 over gofakes3's in-memory
// store; its clock is the test's.
type S3Server struct {
	URL     string
	Backend *s3mem.Backend
	Clock   gofakes3.TimeSourceAdvancer

	faults *s3Faults
}

// NewS3Server starts an endpoint with the buckets named, and sets the
// environment of the standard credential chain to test credentials (so
// nothing of the machine's own AWS setup is read).
func NewS3Server(tb testing.TB, buckets ...string) *S3Server {
	tb.Helper()
	clock := gofakes3.FixedTimeSource(time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC))
	backend := s3mem.New(s3mem.WithTimeSource(clock))
	for _, b := range buckets {
		if err := backend.CreateBucket(b); err != nil {
			tb.Fatal(err)
		}
	}
	faults := &s3Faults{inner: gofakes3.New(backend, gofakes3.WithLogger(gofakes3.DiscardLog())).Server(),
		bodies: map[string]Body{}, done: make(chan struct{})}
	srv := httptest.NewServer(faults)
	tb.Cleanup(srv.Close)
	tb.Cleanup(func() { close(faults.done) }) // before the close: a stalled answer ends
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_SESSION_TOKEN": "",
		"AWS_REGION": "us-east-1", "AWS_PROFILE": "", "AWS_EC2_METADATA_DISABLED": "true",
		"AWS_CONFIG_FILE": tb.TempDir() + "/none", "AWS_SHARED_CREDENTIALS_FILE": tb.TempDir() + "/none",
	} {
		tb.Setenv(k, v)
	}
	return &S3Server{URL: srv.URL, Backend: backend, Clock: clock, faults: faults}
}

// Put stores an object, then moves the clock on a second so that the
// next one is newer.
func (s *S3Server) Put(tb testing.TB, bucket, key string, data []byte) {
	tb.Helper()
	if _, err := s.Backend.PutObject(bucket, key, map[string]string{}, bytes.NewReader(data), int64(len(data)), nil); err != nil {
		tb.Fatal(err)
	}
	s.Clock.Advance(time.Second)
}

// Keys lists a bucket's keys under prefix.
func (s *S3Server) Keys(tb testing.TB, bucket, prefix string) []string {
	tb.Helper()
	list, err := s.Backend.ListBucket(bucket, &gofakes3.Prefix{Prefix: prefix, HasPrefix: true}, gofakes3.ListBucketPage{})
	if err != nil {
		tb.Fatal(err)
	}
	var keys []string
	for _, c := range list.Contents {
		keys = append(keys, c.Key)
	}
	return keys
}

// Get reads an object.
func (s *S3Server) Get(tb testing.TB, bucket, key string) []byte {
	tb.Helper()
	obj, err := s.Backend.GetObject(bucket, key, nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer obj.Contents.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(obj.Contents); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}
