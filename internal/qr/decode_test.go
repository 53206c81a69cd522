package qr

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestDecodeReadsFixtures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, file, want string
	}{
		{"a plain code reads", "plain.png", totpURI},
		{"a code on a screenshot of a whole page reads", "page.png", totpURI},
		{"a scaled-down JPEG reads", "small.jpg", totpURI},
		{"a GIF reads", "code.gif", totpURI},

		// The API refuses these texts; Decode only reports them.
		{"a code holding a URL reads as the URL", "url.png", urlText},
		{"a migration export reads as its URI", "migration.png", migrationURI},
		{"an HOTP code reads as its URI", "hotp.png", hotpURI},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Decode(context.Background(), testdata(t, tt.file))
			if err != nil {
				t.Fatalf("Decode(%s): %v", tt.file, err)
			}
			if got != tt.want {
				t.Errorf("Decode(%s) = %q, want %q", tt.file, got, tt.want)
			}
		})
	}
}

func TestDecodeRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		img  []byte
		want error
		says string // part of the error's text
	}{
		{"text is not an image",
			testdata(t, "not-image.txt"), ErrNotImage, "not a PNG, JPEG or GIF"},
		{"no bytes are not an image",
			nil, ErrNotImage, "not a PNG, JPEG or GIF"},
		{"a BMP is not one of the formats",
			[]byte("BM\x3a\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00"), ErrNotImage, "not a PNG, JPEG or GIF"},
		{"a truncated PNG is unreadable",
			testdata(t, "truncated.png"), ErrNotImage, "PNG image is truncated or corrupt"},
		{"a PNG cut within its header is unreadable",
			testdata(t, "plain.png")[:20], ErrNotImage, "header is truncated or corrupt"},
		{"a page without a code has no code",
			testdata(t, "blank.png"), ErrNoCode, "no QR code was found in the 1280×900 image"},
		{"a one-pixel image has no code",
			encodePNG(t, image.NewGray(image.Rect(0, 0, 1, 1))), ErrNoCode, "no QR code"},
		{"a PNG header over the pixel limit is too large",
			testdata(t, "huge-header.png"), ErrTooLarge, "10000×10000 pixels (100.0 megapixels)"},
		{"a GIF header over the pixel limit is too large",
			gifHeader(65535, 65535), ErrTooLarge, "65535×65535"},
		{"a JPEG header over the pixel limit is too large",
			jpegHeader(8000, 5001), ErrTooLarge, "8000×5001"},

		// Kinds that take more memory a pixel have lower limits.
		{"a 16-bit PNG header over its lower limit is too large",
			pngHeader(6000, 4500, 16, 0), ErrTooLarge,
			"over the limit of 24 megapixels for a 16-bit PNG"},
		{"an interlaced PNG header over its lower limit is too large",
			pngHeader(6000, 5100, 8, 1), ErrTooLarge, "30 megapixels for an interlaced PNG"},
		{"a progressive colour JPEG header over its lower limit is too large",
			frameHeader(0xc2, 6000, 4000, 0x11, 0x11, 0x11), ErrTooLarge,
			"over the limit of 14.1 megapixels for a progressive JPEG, which takes about 17 bytes"},
		{"a progressive CMYK JPEG header over its lower limit is too large",
			frameHeader(0xc2, 4000, 2500, 0x11, 0x11, 0x11, 0x11), ErrTooLarge,
			"9.2 megapixels for a progressive CMYK JPEG"},
		{"a baseline JPEG header of the same size passes on to the pixels",
			frameHeader(0xc0, 6000, 4000, 0x11, 0x11, 0x11), ErrNotImage, "truncated or corrupt"},
		{"a 4:2:0 progressive JPEG header of the same size passes on to the pixels",
			frameHeader(0xc2, 6000, 4000, 0x22, 0x11, 0x11), ErrNotImage, "truncated or corrupt"},
		{"an 8-bit PNG header of the same size passes on to the pixels",
			pngHeader(6000, 4500, 8, 0), ErrNotImage, "truncated or corrupt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Decode(context.Background(), tt.img)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Decode: %v, want an error wrapping %q", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.says) {
				t.Errorf("Decode: %q, want it to say %q", err, tt.says)
			}
		})
	}
}

func TestDecodeNeverQuotesTheImage(t *testing.T) {
	t.Parallel()
	_, err := Decode(context.Background(), testdata(t, "not-image.txt"))
	if err == nil || strings.Contains(err.Error(), "text file") {
		t.Errorf("Decode(not-image.txt): %v, want an error that does not quote the file", err)
	}
}

func TestDecodeJudgesSizeFromTheHeaderAlone(t *testing.T) {
	t.Parallel()
	img := testdata(t, "huge-header.png")

	// 10000×10000 RGB pixels are 300 MB; deflate shrinks data at most
	// 1032 times, so the file cannot hold them.
	if len(img) > 300_000_000/1032 {
		t.Fatalf("huge-header.png is %d bytes, big enough to hold its pixels", len(img))
	}

	// No slot is free and the search fails the test: Decode can only
	// answer ErrTooLarge by refusing before either.
	s := &scanner{
		wait:    time.Second,
		timeout: time.Second,
		slots:   make(chan struct{}, 1),
		search: func(context.Context, image.Image) (string, string, error) {
			t.Error("the pixels were searched")
			return "", "", nil
		},
	}
	s.slots <- struct{}{}

	start := time.Now()
	_, err := s.decode(context.Background(), img)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("decode: %v, want ErrTooLarge", err)
	}
	if took := time.Since(start); took > 100*time.Millisecond {
		t.Errorf("decode took %v, want an answer from the header at once", took)
	}
}

func TestDecodeCutsOffASlowDecode(t *testing.T) {
	t.Parallel()

	// Decoding page.png's million pixels alone takes milliseconds.
	s := &scanner{wait: time.Minute, timeout: time.Millisecond, slots: make(chan struct{}, 1),
		search: search}

	start := time.Now()
	_, err := s.decode(context.Background(), testdata(t, "page.png"))
	if !errors.Is(err, ErrTimeout) || errors.Is(err, ErrBusy) {
		t.Fatalf("decode: %v, want ErrTimeout and not ErrBusy", err)
	}
	if took := time.Since(start); took > 500*time.Millisecond {
		t.Errorf("decode took %v with a timeout of 1ms", took)
	}

	// The abandoned decode notices between passes and gives its slot back.
	waitForFreeSlots(t, s)
}

func TestDecodeReturnsWhenTheContextEnds(t *testing.T) {
	t.Parallel()
	s, release := blockedScanner(time.Hour, 1)
	defer release()

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(10*time.Millisecond, cancel)

	start := time.Now()
	_, err := s.decode(ctx, testdata(t, "plain.png"))
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrTimeout) {
		t.Fatalf("decode: %v, want context.Canceled and not ErrTimeout", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("decode took %v after its context ended", took)
	}
}

func TestAbandonedDecodeKeepsItsSlot(t *testing.T) {
	t.Parallel()
	s, release := blockedScanner(20*time.Millisecond, 1)
	defer release()
	s.wait = 20 * time.Millisecond
	plain := testdata(t, "plain.png")

	if _, err := s.decode(context.Background(), plain); !errors.Is(err, ErrTimeout) {
		t.Fatalf("first decode: %v, want ErrTimeout", err)
	}
	if len(s.slots) != 1 {
		t.Fatalf("%d slots taken after the first decode timed out, want 1", len(s.slots))
	}

	_, err := s.decode(context.Background(), plain)
	if !errors.Is(err, ErrBusy) || errors.Is(err, ErrTimeout) {
		t.Fatalf("second decode: %v, want ErrBusy and not ErrTimeout", err)
	}

	// Once the first decode really ends, its slot is free again.
	release()
	waitForFreeSlots(t, s)
}

func TestADecodeThatGetsNoSlotIsBusy(t *testing.T) {
	t.Parallel()
	s := &scanner{
		wait:    10 * time.Millisecond,
		timeout: time.Hour,
		slots:   make(chan struct{}, 1),
		search: func(context.Context, image.Image) (string, string, error) {
			t.Error("a decode without a slot searched the image")
			return "", "", nil
		},
	}
	s.slots <- struct{}{} // taken for good

	_, err := s.decode(context.Background(), testdata(t, "plain.png"))
	if !errors.Is(err, ErrBusy) || errors.Is(err, ErrTimeout) {
		t.Fatalf("decode: %v, want ErrBusy and not ErrTimeout", err)
	}
	if !strings.Contains(err.Error(), "try again") {
		t.Errorf("decode: %q, want it to say to try again", err)
	}
}

func TestADecodeThatWaitedForASlotGetsItsWholeTimeout(t *testing.T) {
	t.Parallel()

	// The first search holds the only slot; every later one finds a code
	// unless its context has ended.
	unblock := make(chan struct{})
	var calls sync.WaitGroup
	calls.Add(1)
	var once sync.Once
	s := &scanner{
		wait:    time.Minute,
		timeout: 300 * time.Millisecond,
		slots:   make(chan struct{}, 1),
		search: func(ctx context.Context, _ image.Image) (string, string, error) {
			first := false
			once.Do(func() { first = true; calls.Done() })
			if first {
				<-unblock
				return "", "", errors.New("released")
			}
			return totpURI, "stub", ctx.Err()
		},
	}
	plain := testdata(t, "plain.png")

	go func() { _, _ = s.decode(context.Background(), plain) }()
	calls.Wait()

	// The slot stays taken for longer than a whole decode timeout: a wait
	// that counted against the decode would leave it no time at all.
	time.AfterFunc(2*s.timeout, func() { close(unblock) })

	got, err := s.decode(context.Background(), plain)
	if err != nil || got != totpURI {
		t.Fatalf("decode after waiting for the slot: %q, %v; want the code's text", got, err)
	}
}

func TestDecodeRunsAsManyDecodesAsCPUs(t *testing.T) {
	t.Parallel()
	if got, want := cap(shared.slots), runtime.GOMAXPROCS(0); got != want {
		t.Errorf("Decode has %d slots, want GOMAXPROCS = %d", got, want)
	}
}

func TestDecodeReadsQrencodeOutput(t *testing.T) {
	t.Parallel()
	qrencode := tool(t, "qrencode", "qrencode")
	tests := []struct {
		name, text string
		args       []string
	}{
		{"a long URI with percent-encoding reads", longURI, nil},
		{"a URI with UTF-8 in it reads", utf8URI, nil},
		{"a code at the highest correction level reads", totpURI, []string{"-l", "H"}},
		{"a code with one pixel a module reads", totpURI, []string{"-s", "1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"-o", "-", "-t", "PNG"}, tt.args...)
			img := run(t, qrencode, append(args, tt.text)...)

			got, err := Decode(context.Background(), img)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if got != tt.text {
				t.Errorf("Decode = %q, want %q", got, tt.text)
			}
		})
	}
}

func BenchmarkDecodePage(b *testing.B) {
	img := testdata(b, "page.png")
	for b.Loop() {
		if _, err := Decode(context.Background(), img); err != nil {
			b.Fatal(err)
		}
	}
}

// longURI is a URI as long as a generated key's may get, with a label and an
// issuer that need percent-encoding.
const longURI = "otpauth://totp/Contoso%20Ltd%20%E2%80%93%20Monitoring:" +
	"synthetic-logon-robot-eu-west-1%40contoso.onmicrosoft.com" +
	"?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" +
	"&issuer=Contoso%20Ltd%20%E2%80%93%20Monitoring&algorithm=SHA512&digits=8&period=60"

// blockedScanner returns a scanner whose search blocks until release is
// called, whatever its context says: a decode that cannot be stopped. Its
// wait for a slot is an hour.
func blockedScanner(timeout time.Duration, slots int) (*scanner, func()) {
	unblock := make(chan struct{})
	s := &scanner{
		wait:    time.Hour,
		timeout: timeout,
		slots:   make(chan struct{}, slots),
		search: func(context.Context, image.Image) (string, string, error) {
			<-unblock
			return "", "", errors.New("released")
		},
	}
	var once sync.Once
	return s, func() { once.Do(func() { close(unblock) }) }
}

// waitForFreeSlots fails the test unless every slot of s is free within a
// few seconds.
func waitForFreeSlots(t *testing.T, s *scanner) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); len(s.slots) > 0; {
		if time.Now().After(deadline) {
			t.Fatalf("%d slots still taken", len(s.slots))
		}
		time.Sleep(time.Millisecond)
	}
}

// gifHeader is the start of a GIF whose logical screen is width×height.
func gifHeader(width, height uint16) []byte {
	b := []byte("GIF89a\x00\x00\x00\x00\x00\x00\x00")
	binary.LittleEndian.PutUint16(b[6:], width)
	binary.LittleEndian.PutUint16(b[8:], height)
	return b
}

// jpegHeader is the start of a baseline JPEG whose frame is width×height
// grey pixels.
func jpegHeader(width, height uint16) []byte {
	return frameHeader(0xc0, width, height, 0x11)
}

// frameHeader is the start of a JPEG: the start-of-image marker, an
// application segment as encoders write one before the frame, a
// start-of-frame segment of the given marker (0xc0 baseline, 0xc2
// progressive) with one component for each sampling byte (horizontal
// factor in the high nibble), and the start of a scan, where the decoder
// stops reading the header. Four components carry the Adobe segment that
// marks them CMYK.
func frameHeader(marker byte, width, height uint16, sampling ...byte) []byte {
	var b bytes.Buffer
	b.Write([]byte{0xff, 0xd8})
	b.Write([]byte{0xff, 0xe0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0})
	if len(sampling) == 4 {
		b.Write([]byte{0xff, 0xee, 0x00, 0x0e, 'A', 'd', 'o', 'b', 'e', 0, 100, 0, 0, 0, 0, 0})
	}

	b.Write([]byte{0xff, marker})
	binary.Write(&b, binary.BigEndian, uint16(8+3*len(sampling)))
	b.WriteByte(8)
	binary.Write(&b, binary.BigEndian, height)
	binary.Write(&b, binary.BigEndian, width)
	b.WriteByte(byte(len(sampling)))
	for i, hv := range sampling {
		b.Write([]byte{byte(i + 1), hv, 0})
	}
	b.Write([]byte{0xff, 0xda, 0x00, 0x08})
	return b.Bytes()
}

// pngHeader is the start of a PNG whose IHDR chunk says width×height of
// the given bit depth, colour type 2 (RGB) at 8 bits and 0 (grey) at 16,
// and interlace method, with a correct checksum, followed by nothing.
func pngHeader(width, height uint32, depth, interlace byte) []byte {
	colour := byte(2)
	if depth == 16 {
		colour = 0
	}
	chunk := binary.BigEndian.AppendUint32([]byte("IHDR"), width)
	chunk = binary.BigEndian.AppendUint32(chunk, height)
	chunk = append(chunk, depth, colour, 0, 0, interlace)

	b := []byte("\x89PNG\r\n\x1a\n")
	b = binary.BigEndian.AppendUint32(b, uint32(len(chunk)-4))
	b = append(b, chunk...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(chunk))
}
