package s3revision_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/fleetdeploy/fleetdeploy/revision"
	"github.com/fleetdeploy/fleetdeploy/revision/s3revision"
)

// bigBytes is the size of the file inside the large bundles: 200 MiB.
const bigBytes = 200 << 20

// writeBigTar writes a tar holding an AppSpec and a file of size zero
// bytes to w.
func writeBigTar(w io.Writer, size int64) error {
	tw := tar.NewWriter(w)
	appspec := "version: 0.0\nos: linux\n"
	if err := tw.WriteHeader(&tar.Header{Name: "appspec.yml", Mode: 0o644, Size: int64(len(appspec)), Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	if _, err := io.WriteString(tw, appspec); err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: "big.bin", Mode: 0o644, Size: size, Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	if _, err := io.CopyN(tw, zeros{}, size); err != nil {
		return err
	}
	return tw.Close()
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// streamingBackend is gofakes3's memory backend plus one object,
// big/stream.tar, whose bytes are generated as they are sent: a tar of
// bigBytes that is never held in memory, by the server or anyone.
type streamingBackend struct {
	*s3mem.Backend
	size int64
}

func newStreamingBackend(t testing.TB) *streamingBackend {
	// A tar's size grows by exactly the file's size when that is a
	// multiple of the 512-byte block.
	n, err := countingWrite(func(w io.Writer) error { return writeBigTar(w, 0) })
	if err != nil {
		t.Fatal(err)
	}
	b := &streamingBackend{Backend: s3mem.New(), size: n + bigBytes}
	if err := b.CreateBucket("big"); err != nil {
		t.Fatal(err)
	}
	return b
}

// zerosTgz returns writeBigTar(bigBytes) gzip-compressed, built fast: a
// gzip stream may hold several members, so the tar's header, its 1 MiB
// blocks of zeros (all the same member) and its end are compressed apart.
func zerosTgz(t testing.TB) []byte {
	var tb bytes.Buffer
	if err := writeBigTar(&tb, 0); err != nil {
		t.Fatal(err)
	}
	raw := tb.Bytes()
	// writeBigTar(0) is the AppSpec's two blocks, big.bin's header block
	// with size 0, and the end. Patch the header to the real size.
	hdr := bytes.Clone(raw[:1536])
	tr := tar.NewReader(bytes.NewReader(raw))
	tr.Next()
	h, err := tr.Next()
	if err != nil {
		t.Fatal(err)
	}
	h.Size = bigBytes
	var hb bytes.Buffer
	tw := tar.NewWriter(&hb)
	if err := tw.WriteHeader(h); err != nil {
		t.Fatal(err)
	}
	tw.Flush()
	copy(hdr[1024:], hb.Bytes()[:512])
	member := func(p []byte) []byte {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(p)
		zw.Close()
		return buf.Bytes()
	}
	block := member(make([]byte, 1<<20))
	out := member(hdr)
	for range bigBytes >> 20 {
		out = append(out, block...)
	}
	return append(out, member(raw[1536:])...)
}

func (b *streamingBackend) GetObject(bucket, key string, rng *gofakes3.ObjectRangeRequest) (*gofakes3.Object, error) {
	if bucket != "big" || key != "stream.tar" || rng != nil {
		return b.Backend.GetObject(bucket, key, rng)
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeBigTar(pw, bigBytes)) }()
	return &gofakes3.Object{Name: key, Size: b.size, Contents: pr, Hash: bytes.Repeat([]byte{0xab}, 16), Metadata: map[string]string{}}, nil
}

func countingWrite(write func(io.Writer) error) (int64, error) {
	var c byteCounter
	err := write(&c)
	return int64(c), err
}

type byteCounter int64

func (c *byteCounter) Write(p []byte) (int, error) {
	*c += byteCounter(len(p))
	return len(p), nil
}

// heapSampler passes reads through and samples the live heap every
// `every` bytes, keeping the highest HeapAlloc seen.
type heapSampler struct {
	r         io.ReadCloser
	every     int64
	sinceLast int64
	peak      uint64
	samples   int
}

func (h *heapSampler) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.sinceLast += int64(n)
	if h.sinceLast >= h.every || err != nil {
		h.sample()
	}
	return n, err
}

func (h *heapSampler) Close() error { return h.r.Close() }

func (h *heapSampler) sample() {
	h.sinceLast = 0
	h.samples++
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	h.peak = max(h.peak, ms.HeapAlloc)
}

// bigCase is one large bundle to stream.
type bigCase struct {
	name  string
	typ   revision.BundleType
	key   string
	every int64 // sampling interval, in bytes of the bundle
	wire  int64 // bundle bytes sent by the server
}

// setupBig starts gofakes3 with the two large bundles: big/stream.tar, a
// 200 MiB tar generated as it is sent, and big/zeros.tgz, a 200 MiB file
// of zeros compressed (a few hundred KiB on the wire).
func setupBig(t testing.TB) (*s3revision.Source, []bigCase) {
	backend := newStreamingBackend(t)
	tgz := bytes.NewBuffer(zerosTgz(t))
	if _, err := backend.PutObject("big", "zeros.tgz", map[string]string{}, bytes.NewReader(tgz.Bytes()), int64(tgz.Len()), nil); err != nil {
		t.Fatal(err)
	}
	fake := newFakeS3(t, backend, nil)
	src, err := s3revision.New(fake.client)
	if err != nil {
		t.Fatal(err)
	}
	return src, []bigCase{
		{name: "tar-streamed", typ: revision.BundleTar, key: "stream.tar", every: 1 << 20, wire: backend.size},
		{name: "tgz-of-zeros", typ: revision.BundleTgz, key: "zeros.tgz", every: 4 << 10, wire: int64(tgz.Len())},
	}
}

// peakHeap opens c's bundle, unpacks it and returns how far the live heap
// rose above what it was before, at its highest, and how many samples
// were taken.
func peakHeap(t testing.TB, src *s3revision.Source, c bigCase) (uint64, int) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	ctx := t.Context()
	b, err := src.Open(ctx, s3loc("big", c.key, c.typ))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	h := &heapSampler{r: b.Body, every: c.every}
	b.Body = h
	dst := filepath.Join(t.TempDir(), "bundle")
	res, err := revision.Unpack(ctx, b, dst)
	if err != nil {
		t.Fatal(err)
	}
	if res.Bytes < bigBytes {
		t.Fatalf("unpacked %d bytes, want more than %d", res.Bytes, bigBytes)
	}
	h.sample()
	if h.peak < base {
		return 0, h.samples
	}
	return h.peak - base, h.samples
}

// A 200 MiB bundle streams from S3 to disk without sitting in memory: the
// live heap never rises more than 16 MiB above where it started while the
// whole bundle is downloaded and unpacked.
func TestLargeBundleStreams(t *testing.T) {
	src, cases := setupBig(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			peak, samples := peakHeap(t, src, c)
			t.Logf("%s: %d MiB unpacked from %d bytes on the wire; peak live heap +%.1f MiB over %d samples",
				c.name, bigBytes>>20, c.wire, float64(peak)/(1<<20), samples)
			if samples < 40 {
				t.Errorf("only %d heap samples; the measure needs more", samples)
			}
			if peak > 16<<20 {
				t.Errorf("peak live heap rose %d bytes while streaming a %d-byte bundle; want at most 16 MiB", peak, bigBytes)
			}
		})
	}
}

// BenchmarkLargeBundle reports the peak live heap (peak-heap-MiB) and the
// throughput of streaming each 200 MiB bundle from gofakes3 into Unpack.
func BenchmarkLargeBundle(b *testing.B) {
	src, cases := setupBig(b)
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(bigBytes)
			var worst uint64
			for b.Loop() {
				peak, _ := peakHeap(b, src, c)
				worst = max(worst, peak)
			}
			b.ReportMetric(float64(worst)/(1<<20), "peak-heap-MiB")
		})
	}
}
