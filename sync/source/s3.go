package source

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"
	"go.uber.org/zap"
)

// s3Store is a prefix in an S3 (or S3-compatible) bucket. Keys have no
// leading slash: s3://bucket/inbox/*.zip lists inbox/<name>.zip.
type s3Store struct {
	remote
	bucket string
	client *s3.Client
	stall  time.Duration // source.stall_timeout
	max    int64         // source.max_bytes
}

// The bounds of a listing: a store that says "more" for ever (3,927
// requests in 90 s, then 1.37 GB) is cut there, with an error.
var (
	maxListPages = 1000    // requests of up to 1,000 keys each
	maxListKeys  = 100_000 // keys that match the pattern
)

func (s *s3Store) stallTimeout() time.Duration { return s.stall }
func (s *s3Store) maxBytes() int64             { return s.max }

func newS3(ctx context.Context, pattern string, cfg Settings, opt Options) (*s3Store, error) {
	r, err := parseRemote(pattern, cfg.ArchiveDir)
	if err != nil {
		return nil, err
	}
	r.dir = strings.TrimPrefix(r.dir, "/")
	r.archive = strings.TrimPrefix(r.archive, "/")
	if r.dir == "." {
		r.dir = ""
	}
	c := cfg.S3
	// The SDK's own lines go to our log at debug level (-v): its default
	// logger prints to stderr whatever the verbosity.
	loadOpts := []func(*config.LoadOptions) error{config.WithLogger(sdkLogger{opt.log()})}
	if c.Region != "" {
		loadOpts = append(loadOpts, config.WithRegion(c.Region))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		// A profile that is not there, a shared config file that cannot be
		// read: the configuration, like the other sources' (exit 2).
		return nil, configError(Redact(pattern), fmt.Errorf("AWS configuration: %w", err))
	}
	if awsCfg.Region == "" {
		awsCfg.Region = "us-east-1"
	}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if c.Endpoint != "" {
			o.BaseEndpoint = aws.String(c.Endpoint)
			o.UsePathStyle = true
			// S3-compatible stores often lack the newest checksum headers:
			// ask for them only where the API requires them.
			o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
			o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		}
		if c.PathStyle != nil {
			o.UsePathStyle = *c.PathStyle
		}
	})
	return &s3Store{remote: r, bucket: r.url.Host, client: client, stall: stallAfter(cfg), max: maxBytesOf(cfg)}, nil
}

// sdkLogger writes the AWS SDK's lines to zap at debug level.
type sdkLogger struct{ log *zap.Logger }

func (l sdkLogger) Logf(c logging.Classification, format string, v ...any) {
	l.log.Debug("aws sdk: "+fmt.Sprintf(format, v...), zap.String("class", string(c)))
}

func (s *s3Store) Kind() string       { return KindS3 }
func (s *s3Store) String() string     { return s.url.Redacted() }
func (s *s3Store) ArchiveDir() string { return s.archive }
func (s *s3Store) Close() error       { return nil }

func (s *s3Store) Join(dir, name string) string {
	return strings.TrimPrefix(path.Join(dir, name), "/")
}

func (s *s3Store) List(ctx context.Context) ([]Entry, error) {
	prefix := ""
	if s.dir != "" {
		prefix = s.dir + "/"
	}
	in := &s3.ListObjectsV2Input{Bucket: &s.bucket, Prefix: &prefix, Delimiter: aws.String("/")}
	var out []Entry
	p := s3.NewListObjectsV2Paginator(s.client, in, func(o *s3.ListObjectsV2PaginatorOptions) { o.StopOnDuplicateToken = true })
	for pages := 0; p.HasMorePages(); pages++ {
		if pages == maxListPages || len(out) > maxListKeys {
			return nil, fmt.Errorf("s3 list %s: more than %d pages or %d matching keys: narrow source.path, or archive old exports", s.String(), maxListPages, maxListKeys)
		}
		page, err := s.listPage(ctx, p)
		if err != nil {
			return nil, err
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			if !s.matches(path.Base(key)) {
				continue
			}
			e := Entry{Name: key, Size: aws.ToInt64(o.Size), ModTime: aws.ToTime(o.LastModified), ETag: aws.ToString(o.ETag)}
			e.MD5 = etagMD5(aws.ToString(o.ETag))
			out = append(out, e)
		}
	}
	return out, nil
}

// listPage fetches one page, which must come within stall_timeout.
func (s *s3Store) listPage(ctx context.Context, p *s3.ListObjectsV2Paginator) (*s3.ListObjectsV2Output, error) {
	pctx, cancel := context.WithTimeoutCause(ctx, s.stall, errStalled)
	defer cancel()
	page, err := p.NextPage(pctx)
	if err != nil && ctx.Err() == nil && errors.Is(context.Cause(pctx), errStalled) {
		return nil, fmt.Errorf("s3 list %s: no answer within source.stall_timeout %s", s.String(), s.stall)
	}
	if err != nil {
		return nil, fmt.Errorf("s3 list %s: %w", s.String(), err)
	}
	return page, nil
}

// etagMD5 returns a single-part upload's ETag, which is its MD5; a
// multipart ETag ("...-3") is not, and gives "".
func etagMD5(etag string) string {
	etag = strings.Trim(etag, `"`)
	if len(etag) != 32 || strings.Contains(etag, "-") {
		return ""
	}
	if _, err := hex.DecodeString(etag); err != nil {
		return ""
	}
	return strings.ToLower(etag)
}

func (s *s3Store) Open(ctx context.Context, e Entry) (io.ReadCloser, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: &e.Name, ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		return nil, fmt.Errorf("s3 get %s: %w", e.Name, err)
	}
	return out.Body, nil
}

// checksum returns the SHA-256 the store recorded for an object, if any.
func (s *s3Store) checksum(ctx context.Context, key string) (string, error) {
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: &key, ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		return "", fmt.Errorf("s3 head %s: %w", key, err)
	}
	if out.ChecksumType == types.ChecksumTypeComposite || out.ChecksumSHA256 == nil {
		return "", nil
	}
	sum, err := base64.StdEncoding.DecodeString(*out.ChecksumSHA256)
	if err != nil || len(sum) != 32 {
		return "", nil
	}
	return hex.EncodeToString(sum), nil
}

func (s *s3Store) Exists(ctx context.Context, key string) (bool, error) {
	_, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: &key})
	var nf *types.NotFound
	var api smithy.APIError
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &nf), errors.As(err, &api) && (api.ErrorCode() == "NotFound" || api.ErrorCode() == "NoSuchKey"):
		return false, nil
	}
	return false, fmt.Errorf("s3 head %s: %w", key, err)
}

// Move copies then deletes: S3 has no rename. The copy is of the version
// listed (CopySourceIfMatch on its ETag); the delete happens only while
// that version is still the object's (a HEAD just before: a new version
// written after the copy stays in the inbox, the synced one archived).
func (s *s3Store) Move(ctx context.Context, e Entry, to string) error {
	from := e.Name
	src := copySource(s.bucket, from)
	in := &s3.CopyObjectInput{Bucket: &s.bucket, Key: &to, CopySource: &src}
	if e.ETag != "" {
		in.CopySourceIfMatch = aws.String(e.ETag)
	}
	if _, err := s.client.CopyObject(ctx, in); err != nil {
		if preconditionFailed(err) {
			return fmt.Errorf("s3 copy %s to %s: %w", from, to, ErrChanged)
		}
		return fmt.Errorf("s3 copy %s to %s: %w", from, to, err)
	}
	if e.ETag != "" {
		head, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: &from})
		if err != nil {
			return fmt.Errorf("s3 head %s (copied to %s): %w", from, to, err)
		}
		if aws.ToString(head.ETag) != e.ETag {
			return nil // the synced version is archived; the new one waits for the next tick
		}
	}
	if _, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: &from}); err != nil {
		return fmt.Errorf("s3 delete %s (copied to %s): %w", from, to, err)
	}
	return nil
}

// preconditionFailed reports S3's answer to a condition not met (412).
func preconditionFailed(err error) bool {
	var api smithy.APIError
	return errors.As(err, &api) && api.ErrorCode() == "PreconditionFailed"
}

// copySource is bucket/key with each part of the key URL-encoded, as
// CopyObject wants it.
func copySource(bucket, key string) string {
	parts := strings.Split(key, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return bucket + "/" + strings.Join(parts, "/")
}

func (s *s3Store) Put(ctx context.Context, key string, data []byte) error {
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{Bucket: &s.bucket, Key: &key, Body: bytes.NewReader(data),
		ContentType: aws.String("text/plain; charset=utf-8")})
	if err != nil {
		return fmt.Errorf("s3 put %s: %w", key, err)
	}
	return nil
}
