package crmsim

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"

	"erpsync/sync/crm"
)

// The images a write stored are served at their logo URL,
// {base}/{organization}-{stamp}/photoCustomer/{name}, and at its resized
// variants, the name prefixed with small_ or medium_ (the reference's
// sections 11.1 to 11.5). crmsim does not resize: a variant answers the
// stored bytes. The links answer without credentials, as links put in web
// pages do; an image stays served after its customer changed or went, as
// content-addressed files on a file server do.

// opImage counts the image requests in /_sim/stats.
const opImage = "GET /photoCustomer/{name}"

// imageName is the stored file name of an image: a digest of its content,
// so that the same image gives the same logo, and its sanitized name.
func imageName(img *crm.Image) string {
	sum := sha256.Sum256(img.Content)
	return hex.EncodeToString(sum[:6]) + "_" + sanitizeFilename(img.Filename)
}

// photoPath is the path of the organization's customer photos.
func (s *Store) photoPath() string {
	return "/" + s.seed.Organization.Name + "-" + strconv.FormatInt(s.orgStamp, 10) + "/photoCustomer/"
}

// keepImage stores the image of a write that succeeded; s.mu is held.
func (s *Store) keepImage(img *crm.Image) {
	if img != nil {
		s.images[imageName(img)] = img.Content
	}
}

// image returns the bytes served at path, if any.
func (s *Store) image(path string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	name, ok := strings.CutPrefix(path, s.photoPath())
	if !ok || name == "" {
		return nil, false
	}
	if b, ok := s.images[name]; ok {
		return b, true
	}
	for _, size := range []string{"small_", "medium_"} {
		if base, ok := strings.CutPrefix(name, size); ok {
			b, found := s.images[base]
			return b, found
		}
	}
	return nil, false
}

// writeImage answers the bytes with the type their content shows.
func writeImage(w http.ResponseWriter, r *http.Request, img []byte) {
	w.Header().Set("Content-Type", http.DetectContentType(img))
	w.Header().Set("Content-Length", strconv.Itoa(len(img)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(img)
	}
}
