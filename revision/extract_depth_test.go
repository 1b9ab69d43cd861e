package revision_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/revision/revisiontest"
)

// nested returns the entries of a bundle holding one file under depth
// nested directories named "d", listing each directory first when listDirs.
func nested(depth int, listDirs bool) []revisiontest.Entry {
	es := []revisiontest.Entry{{Name: "appspec.yml", Body: "version: 0.0\nos: linux\n"}}
	dir := ""
	for range depth {
		dir += "d/"
		if listDirs {
			es = append(es, revisiontest.Entry{Name: dir, Mode: fs.ModeDir})
		}
	}
	return append(es, revisiontest.Entry{Name: dir + "f.txt", Body: "deep"})
}

// TestUnpackDeepBundle: a bundle of one file under 4,096 nested directories
// is refused by the path length limit, and one that lists its nested
// directories by the depth limit at the first too deep, before the deep
// part is written; the limits can be changed. The time each refusal takes is logged, not asserted.
func TestUnpackDeepBundle(t *testing.T) {
	for _, typ := range []revision.BundleType{revision.BundleTar, revision.BundleTgz, revision.BundleZip} {
		for _, tc := range []struct {
			name     string
			entries  []revisiontest.Entry
			limits   revision.ExtractLimits
			reason   string
			entryLen int // length of the entry named in the error
		}{
			{"4096 implied directories", nested(4096, false), revision.ExtractLimits{}, "path is 8197 bytes long, more than 4096 (ExtractLimits.MaxPathLength)", 200},
			{"1024 listed directories", nested(1024, true), revision.ExtractLimits{}, "path is 129 elements deep, more than 128 (ExtractLimits.MaxDepth)", 200},
			{"MaxDepth lowered", nested(10, false), revision.ExtractLimits{MaxDepth: 10}, "path is 11 elements deep, more than 10 (ExtractLimits.MaxDepth)", 2*10 + 5},
			{"MaxPathLength lowered", nested(10, false), revision.ExtractLimits{MaxPathLength: 24}, "path is 25 bytes long, more than 24 (ExtractLimits.MaxPathLength)", 2*10 + 5},
		} {
			t.Run(fmt.Sprintf("%s/%s", typ, tc.name), func(t *testing.T) {
				s := newSandbox(t)
				data := build(t, typ, tc.entries...)
				start := time.Now()
				_, err := revision.Unpack(context.Background(), streamBundle(typ, data), s.dst, func(o *revision.UnpackOptions) { o.Limits = tc.limits })
				t.Logf("refused in %v", time.Since(start))
				checkRefused(t, err, revision.ErrLimitExceeded, "", tc.reason)
				var xe *revision.ExtractError
				if errors.As(err, &xe) && len(xe.Entry) != tc.entryLen {
					t.Errorf("ExtractError.Entry is %d bytes long, want %d: %q", len(xe.Entry), tc.entryLen, xe.Entry)
				}
				if _, err := os.Lstat(s.dst); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("dst exists after a refused bundle: %v", err)
				}
				s.checkOutside(t)
			})
		}
	}
	t.Run("at the limits", func(t *testing.T) {
		// 127 directories and the file: 128 elements, 259 bytes.
		s := newSandbox(t)
		data := build(t, revision.BundleTar, nested(127, true)...)
		res, err := revision.Unpack(context.Background(), streamBundle(revision.BundleTar, data), s.dst, func(o *revision.UnpackOptions) {
			o.Limits.MaxPathLength = 2*127 + 5
		})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := os.ReadFile(s.dst + strings.Repeat("/d", 127) + "/f.txt"); err != nil || string(got) != "deep" {
			t.Errorf("the deepest file = %q, %v", got, err)
		}
		if res.Entries != 129 {
			t.Errorf("Entries = %d, want 129", res.Entries)
		}
	})
	t.Run("ReadAppSpec", func(t *testing.T) {
		data := build(t, revision.BundleTgz, nested(4096, false)...)
		_, _, err := revision.ReadAppSpec(context.Background(), streamBundle(revision.BundleTgz, data))
		checkRefused(t, err, revision.ErrLimitExceeded, "", "(ExtractLimits.MaxPathLength)")
		data = build(t, revision.BundleTgz, nested(200, true)...)
		_, _, err = revision.ReadAppSpec(context.Background(), streamBundle(revision.BundleTgz, data))
		checkRefused(t, err, revision.ErrLimitExceeded, "", "path is 129 elements deep, more than 128 (ExtractLimits.MaxDepth)")
	})
}

// cancellingReader serves r and cancels its context once it has served
// after bytes, as a caller giving up part-way through a download would.
type cancellingReader struct {
	r      io.Reader
	after  int
	served int
	cancel context.CancelFunc
	reads  int // reads after the cancellation
}

func (c *cancellingReader) Read(p []byte) (int, error) {
	if c.served >= c.after {
		c.cancel()
		c.reads++
	}
	n, err := c.r.Read(p)
	c.served += n
	return n, err
}

func (c *cancellingReader) Close() error { return nil }

// TestUnpackCancelledPartway: cancelling ctx while a large bundle is being
// extracted stops the extraction with ctx's error, at once, leaving
// nothing behind.
func TestUnpackCancelledPartway(t *testing.T) {
	files := map[string]string{"appspec.yml": "version: 0.0\nos: linux\n"}
	for i := range 400 {
		files[fmt.Sprintf("data/%03d.bin", i)] = strings.Repeat(string(rune('a'+i%26)), 16<<10)
	}
	for _, typ := range []revision.BundleType{revision.BundleTar, revision.BundleTgz, revision.BundleZip} {
		t.Run(string(typ), func(t *testing.T) {
			data := build(t, typ, revisiontest.Files(files)...)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			body := &cancellingReader{r: bytes.NewReader(data), after: len(data) / 2, cancel: cancel}
			s := newSandbox(t)
			start := time.Now()
			_, err := revision.Unpack(ctx, &revision.Bundle{Type: typ, Body: body}, s.dst)
			t.Logf("returned %v after the cancellation, %d reads of the body later", time.Since(start), body.reads)
			if err != context.Canceled {
				t.Fatalf("Unpack cancelled part-way = %v, want ctx.Err() (%v)", err, ctx.Err())
			}
			if body.reads > 1 {
				t.Errorf("the body was read %d times after the cancellation, want at most once", body.reads)
			}
			if _, err := os.Lstat(s.dst); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("dst exists after a cancelled Unpack: %v", err)
			}
			s.checkOutside(t)
		})
	}
}
