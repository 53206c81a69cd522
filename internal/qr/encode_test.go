package qr

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// encodeTexts are what Encode must hold faithfully: a generated key's URI,
// a long one with percent-encoding, and one with UTF-8 that no one escaped.
var encodeTexts = []struct {
	name, text string
}{
	{"a generated key's URI", "otpauth://totp/totpvault:o365-alice" +
		"?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=totpvault&algorithm=SHA1&digits=6&period=30"},
	{"a long URI with percent-encoding", longURI},
	{"a URI with UTF-8 in it", utf8URI},
	{"a short text", "a"},
}

func TestEncodeReadsBackWithZbarimg(t *testing.T) {
	t.Parallel()
	zbarimg := tool(t, "zbarimg", "zbar-tools")
	for _, tt := range encodeTexts {
		t.Run(tt.name+" reads back", func(t *testing.T) {
			t.Parallel()
			img, err := Encode(tt.text)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			file := filepath.Join(t.TempDir(), "code.png")
			if err := os.WriteFile(file, img, 0o600); err != nil {
				t.Fatal(err)
			}

			// --raw prints the text and a newline, nothing else.
			out := run(t, zbarimg, "--quiet", "--raw", file)
			if got := strings.TrimSuffix(string(out), "\n"); got != tt.text {
				t.Errorf("zbarimg read %q, want %q", got, tt.text)
			}
		})
	}
}

func TestEncodeThenDecodeGivesTheText(t *testing.T) {
	t.Parallel()
	for _, tt := range encodeTexts {
		t.Run(tt.name+" round-trips", func(t *testing.T) {
			t.Parallel()
			img, err := Encode(tt.text)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
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

func TestEncodeDrawsAQuietZoneAndLargeModules(t *testing.T) {
	t.Parallel()
	data, err := Encode(totpURI)
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("the PNG does not decode: %v", err)
	}
	g := grey(img)
	b := g.Rect

	if b.Dx() != b.Dy() || b.Dx()%moduleSize != 0 {
		t.Fatalf("the image is %v, want a square a whole number of modules wide", b.Size())
	}
	border := quietZone * moduleSize
	inner := image.Rect(border, border, b.Dx()-border, b.Dy()-border)
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			if !image.Pt(x, y).In(inner) && g.Pix[y*g.Stride+x] != 255 {
				t.Fatalf("pixel (%d, %d) in the quiet zone is not white", x, y)
			}
		}
	}

	// The top-left finder pattern starts right inside the quiet zone and is
	// seven modules wide: dark for seven modules, then the light separator.
	for x := border; x < border+7*moduleSize; x++ {
		if g.Pix[border*g.Stride+x] != 0 {
			t.Fatalf("pixel (%d, %d) of the finder pattern is not black", x, border)
		}
	}
	if g.Pix[border*g.Stride+border+7*moduleSize] != 255 {
		t.Errorf("the finder pattern is not %d pixels wide", 7*moduleSize)
	}
	if len(data) > 4096 {
		t.Errorf("the PNG is %d bytes, want a few kilobytes at most", len(data))
	}
}

func TestEncodeRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, text string
	}{
		{"empty text", ""},
		{"text too long for any code", strings.Repeat("x", 2332)},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is refused", func(t *testing.T) {
			t.Parallel()
			if img, err := Encode(tt.text); err == nil {
				t.Errorf("Encode made a %d-byte PNG, want an error", len(img))
			}
		})
	}
}

func TestEncodeHoldsTheLongestText(t *testing.T) {
	t.Parallel()
	if _, err := Encode(strings.Repeat("x", 2331)); err != nil {
		t.Errorf("Encode of 2,331 bytes: %v", err)
	}
}
