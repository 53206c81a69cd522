package qr

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
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
	s := &scanner{timeout: time.Millisecond, slots: make(chan struct{}, 1), search: search}

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
	plain := testdata(t, "plain.png")

	if _, err := s.decode(context.Background(), plain); !errors.Is(err, ErrTimeout) {
		t.Fatalf("first decode: %v, want ErrTimeout", err)
	}
	if len(s.slots) != 1 {
		t.Fatalf("%d slots taken after the first decode timed out, want 1", len(s.slots))
	}

	_, err := s.decode(context.Background(), plain)
	if !errors.Is(err, ErrBusy) || !errors.Is(err, ErrTimeout) {
		t.Fatalf("second decode: %v, want ErrBusy and ErrTimeout", err)
	}

	// Once the first decode really ends, its slot is free again.
	release()
	waitForFreeSlots(t, s)
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
// called, whatever its context says: a decode that cannot be stopped.
func blockedScanner(timeout time.Duration, slots int) (*scanner, func()) {
	unblock := make(chan struct{})
	s := &scanner{
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
// grey pixels: the start-of-image marker, a start-of-frame segment, and the
// start of a scan, where the decoder stops reading the header.
func jpegHeader(width, height uint16) []byte {
	var b bytes.Buffer
	b.Write([]byte{0xff, 0xd8, 0xff, 0xc0, 0x00, 0x0b, 0x08})
	binary.Write(&b, binary.BigEndian, height)
	binary.Write(&b, binary.BigEndian, width)
	b.Write([]byte{0x01, 0x01, 0x11, 0x00})
	b.Write([]byte{0xff, 0xda, 0x00, 0x08})
	return b.Bytes()
}
