//go:build ignore

// Compose derives the screenshot-like fixtures from plain.png, which qrencode
// made: the QR modules in every derived image are qrencode's, and this program
// only scales, pastes and re-encodes them, the way a browser and a screenshot
// tool would. It also writes huge-header.png byte by byte. See README.md for
// the order in which to run it.
//
// Run from this directory: go run compose.go
package main

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"
	"log"
	"os"
)

func main() {
	qr := readPNG("plain.png")

	// A browser at 100% zoom draws the 360-pixel code at about 200 pixels,
	// so each module is a non-whole 4.4 pixels with grey edges.
	shown := shrink(qr, 198)
	writePNG("page.png", page(shown, image.Pt(760, 300)))
	writePNG("blank.png", page(nil, image.Point{}))

	// About 2.4 pixels a module, then a middling JPEG quality: a code that
	// was scaled down and recompressed by a chat tool or a ticket system.
	// Colour, as screenshots are: the encoder then stores three components
	// and halves the chroma resolution.
	writeJPEG("small.jpg", toRGBA(shrink(qr, 108)), 70)

	writeGIF("code.gif", qr)
	writeHugeHeader("huge-header.png", 10000, 10000)
}

// page draws a 1280×900 light page in the manner of a sign-in set-up page:
// a header bar, a white card with grey bars standing in for text, a blue
// button, and the code (when not nil) at pos, off the page's centre.
func page(code image.Image, pos image.Point) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, 1280, 900))
	fill(img, img.Bounds(), color.RGBA{0xf3, 0xf2, 0xf1, 0xff})
	fill(img, image.Rect(0, 0, 1280, 48), color.RGBA{0x1b, 0x1a, 0x19, 0xff})
	fill(img, image.Rect(340, 120, 1100, 780), color.White)

	// Text stand-ins: a title, then paragraphs of ragged lines.
	fill(img, image.Rect(380, 160, 720, 184), color.RGBA{0x32, 0x31, 0x30, 0xff})
	grey := color.RGBA{0x9e, 0x9d, 0x9c, 0xff}
	for i, width := range []int{320, 300, 330, 210, 0, 310, 280, 320, 150} {
		y := 220 + i*26
		fill(img, image.Rect(380, y, 380+width, y+12), grey)
	}

	fill(img, image.Rect(960, 720, 1070, 752), color.RGBA{0x00, 0x67, 0xb8, 0xff})
	if code != nil {
		r := code.Bounds().Sub(code.Bounds().Min).Add(pos)
		draw.Draw(img, r, code, code.Bounds().Min, draw.Src)
	}
	return img
}

func toRGBA(src image.Image) *image.RGBA {
	dst := image.NewRGBA(src.Bounds())
	draw.Draw(dst, dst.Bounds(), src, src.Bounds().Min, draw.Src)
	return dst
}

func fill(img *image.RGBA, r image.Rectangle, c color.Color) {
	draw.Draw(img, r, image.NewUniform(c), image.Point{}, draw.Src)
}

// shrink scales src down to a side×side grey image by averaging the source
// pixels under each target pixel, as image viewers do when they zoom out.
func shrink(src image.Image, side int) *image.Gray {
	b := src.Bounds()
	dst := image.NewGray(image.Rect(0, 0, side, side))
	for y := 0; y < side; y++ {
		for x := 0; x < side; x++ {
			dst.SetGray(x, y, average(src, cell(b, side, x, y)))
		}
	}
	return dst
}

func cell(b image.Rectangle, side, x, y int) image.Rectangle {
	return image.Rect(
		b.Min.X+x*b.Dx()/side, b.Min.Y+y*b.Dy()/side,
		b.Min.X+(x+1)*b.Dx()/side, b.Min.Y+(y+1)*b.Dy()/side)
}

func average(src image.Image, r image.Rectangle) color.Gray {
	sum, n := 0, 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			sum += int(color.GrayModel.Convert(src.At(x, y)).(color.Gray).Y)
			n++
		}
	}
	return color.Gray{Y: uint8(sum / n)}
}

// writeHugeHeader writes a PNG that is only a signature, an IHDR chunk that
// claims width×height 8-bit RGB pixels, and an IEND chunk: the header is
// valid (its CRC checks out), but the pixels are not there.
func writeHugeHeader(name string, width, height uint32) {
	var ihdr [13]byte
	binary.BigEndian.PutUint32(ihdr[0:], width)
	binary.BigEndian.PutUint32(ihdr[4:], height)
	ihdr[8] = 8 // bit depth
	ihdr[9] = 2 // colour type: RGB

	var buf bytes.Buffer
	buf.WriteString("\x89PNG\r\n\x1a\n")
	writeChunk(&buf, "IHDR", ihdr[:])
	writeChunk(&buf, "IEND", nil)
	write(name, buf.Bytes())
}

// writeChunk writes a PNG chunk: length, type, data, and the CRC-32 of the
// type and data.
func writeChunk(buf *bytes.Buffer, kind string, data []byte) {
	binary.Write(buf, binary.BigEndian, uint32(len(data)))
	crc := crc32.NewIEEE()
	crc.Write([]byte(kind))
	crc.Write(data)
	buf.WriteString(kind)
	buf.Write(data)
	binary.Write(buf, binary.BigEndian, crc.Sum32())
}

func readPNG(name string) image.Image {
	f, err := os.Open(name)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		log.Fatalf("%s: %v", name, err)
	}
	return img
}

func writePNG(name string, img image.Image) {
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, img); err != nil {
		log.Fatalf("%s: %v", name, err)
	}
	write(name, buf.Bytes())
}

func writeJPEG(name string, img image.Image, quality int) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality}); err != nil {
		log.Fatalf("%s: %v", name, err)
	}
	write(name, buf.Bytes())
}

// writeGIF writes img with the encoder's default Plan 9 palette, which holds
// pure black and white, so the code's modules come out exact.
func writeGIF(name string, img image.Image) {
	var buf bytes.Buffer
	if err := gif.Encode(&buf, img, nil); err != nil {
		log.Fatalf("%s: %v", name, err)
	}
	write(name, buf.Bytes())
}

func write(name string, data []byte) {
	if err := os.WriteFile(name, data, 0o644); err != nil {
		log.Fatal(err)
	}
}
