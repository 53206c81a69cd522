package qr

import "testing"

// TestKindsAreLimitedAsThePackageDocSays holds the table of the package doc
// to the code: each row's kind, made from its header, and its pixel limit.
func TestKindsAreLimitedAsThePackageDocSays(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		img    []byte
		format string
		kind   string
		limit  string // megapixels
	}{
		{"a GIF has the full limit", gifHeader(10, 10), "gif", "GIF", "40"},
		{"an 8-bit PNG has the full limit", pngHeader(10, 10, 8, 0), "png", "PNG", "40"},
		{"a colour JPEG has the full limit",
			frameHeader(0xc0, 10, 10, 0x11, 0x11, 0x11), "jpeg", "JPEG", "40"},
		{"an interlaced 8-bit PNG has 30 megapixels",
			pngHeader(10, 10, 8, 1), "png", "interlaced PNG", "30"},
		{"a 16-bit PNG has 24 megapixels", pngHeader(10, 10, 16, 0), "png", "16-bit PNG", "24"},
		{"an interlaced 16-bit PNG has 17.1 megapixels",
			pngHeader(10, 10, 16, 1), "png", "interlaced 16-bit PNG", "17.1"},
		{"a CMYK JPEG has 24 megapixels",
			frameHeader(0xc0, 10, 10, 0x11, 0x11, 0x11, 0x11), "jpeg", "CMYK JPEG", "24"},
		{"a grey progressive JPEG has 34.3 megapixels",
			frameHeader(0xc2, 10, 10, 0x11), "jpeg", "progressive JPEG", "34.3"},
		{"a 4:2:0 progressive JPEG has 25.3 megapixels",
			frameHeader(0xc2, 10, 10, 0x22, 0x11, 0x11), "jpeg", "progressive JPEG", "25.3"},
		{"a 4:4:4 progressive JPEG has 14.1 megapixels",
			frameHeader(0xc2, 10, 10, 0x11, 0x11, 0x11), "jpeg", "progressive JPEG", "14.1"},
		{"a progressive CMYK JPEG has 9.2 megapixels",
			frameHeader(0xc2, 10, 10, 0x11, 0x11, 0x11, 0x11), "jpeg",
			"progressive CMYK JPEG", "9.2"},
		{"a JPEG whose frame cannot be found counts as the costliest",
			[]byte{0xff, 0xd8, 0x00}, "jpeg", "progressive CMYK JPEG", "9.2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			k := kindOf(tt.img, tt.format)
			if k.name != tt.kind || megapixels(k.maxPixels()) != tt.limit {
				t.Errorf("kind %q with a limit of %s megapixels, want %q with %s",
					k.name, megapixels(k.maxPixels()), tt.kind, tt.limit)
			}
		})
	}
}
