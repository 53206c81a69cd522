package qr

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// decodeBudget is the memory one decode may hold at its peak: what an
// 8-bit colour PNG of MaxPixels takes. Kinds of image that take more bytes
// a pixel are refused at fewer pixels, so that no image costs more.
const decodeBudget = MaxPixels * 6

// searchBytes is what the search holds a pixel on top of the decoded
// image: its grey copy of the image, and the reader's black-and-white one
// with room to spare.
const searchBytes = 2

// coefficientBytes is what the standard library's JPEG decoder holds for
// each sample of a progressive JPEG until its last scan: 64 coefficients of
// 4 bytes for each block of 8×8 samples.
const coefficientBytes = 4

// A kind is what an image's header tells of the memory its decode takes.
type kind struct {
	name  string  // how an error text names the kind, "16-bit PNG"
	bytes float64 // bytes a pixel that a decode holds at its peak
}

// maxPixels is the largest image of the kind that a decode reads: MaxPixels,
// or fewer when the kind's pixels cost more than decodeBudget allows.
func (k kind) maxPixels() int64 {
	return min(MaxPixels, int64(decodeBudget/k.bytes))
}

// kindOf judges the kind of img, whose header image.DecodeConfig has read
// as format, by the bytes its pixels take once decoded (measured with the
// standard library's decoders): the bit depth and interlacing of a PNG,
// and the colour components, their sampling and the progressive mode of a
// JPEG. A GIF decodes to one byte a pixel.
func kindOf(img []byte, format string) kind {
	switch format {
	case "png":
		return pngKind(img)
	case "jpeg":
		return jpegKind(img)
	}
	return kind{"GIF", 1 + searchBytes}
}

// pngKind reads the IHDR chunk, which image.DecodeConfig has checked is
// the first, at its fixed place. A paletted image decodes to one byte a
// pixel; any other to 4 bytes, or 8 with 16 bits a channel (a grey image
// takes fewer only when it has no transparency, which the header does not
// tell). An interlaced image holds, while its last pass is merged in, that
// pass's half of the pixels as well.
func pngKind(img []byte) kind {
	const depthAt, colourAt, interlaceAt = 24, 25, 28
	if len(img) <= interlaceAt {
		return kind{"PNG", 12 + searchBytes} // unreachable after DecodeConfig; assume the worst
	}

	bytes, names := 4.0, []string{}
	switch {
	case img[colourAt] == 3:
		bytes = 1
	case img[depthAt] == 16:
		bytes, names = 8, append(names, "16-bit")
	}
	if img[interlaceAt] == 1 {
		bytes, names = bytes*1.5, append([]string{"interlaced"}, names...)
	}
	return kind{strings.Join(append(names, "PNG"), " "), bytes + searchBytes}
}

// jpegKind reads the frame header. The decoded image takes a byte for each
// sample; a CMYK one 4 bytes a pixel more, since its black is decoded apart
// and the colours are then copied into a CMYK image. A progressive JPEG
// also holds every sample's coefficients until its last scan.
func jpegKind(img []byte) kind {
	f, ok := jpegFrame(img)
	if !ok {
		// The frame header was found by image.DecodeConfig; one that this
		// reading misses costs what the costliest frame would.
		f = frame{progressive: true, components: 4, samples: 4}
	}

	bytes, names := f.samples, []string{}
	if f.components == 4 {
		bytes, names = bytes+4, append(names, "CMYK")
	}
	if f.progressive {
		bytes, names = bytes+coefficientBytes*f.samples, append([]string{"progressive"}, names...)
	}
	return kind{strings.Join(append(names, "JPEG"), " "), bytes + searchBytes}
}

// A frame is what a JPEG's start-of-frame segment says of the decode.
type frame struct {
	progressive bool
	components  int
	samples     float64 // samples a pixel, all components together
}

// jpegFrame walks the segments of a JPEG up to its start-of-frame segment:
// baseline (SOF0), extended (SOF1) or progressive (SOF2), the frames that
// the standard library decodes. It reports false when none is found.
func jpegFrame(img []byte) (frame, bool) {
	for at := 2; at+4 <= len(img); {
		if img[at] != 0xff {
			return frame{}, false
		}
		marker := img[at+1]
		switch {
		case marker == 0xff: // fill byte
			at++
			continue
		case marker == 0xc0 || marker == 0xc1 || marker == 0xc2:
			return readFrame(img[at+4:], marker == 0xc2)
		case marker >= 0xd0 && marker <= 0xd9: // markers without a length
			at += 2
			continue
		}
		at += 2 + int(binary.BigEndian.Uint16(img[at+2:]))
	}
	return frame{}, false
}

// readFrame reads a start-of-frame segment after its length: precision,
// height, width, the number of components, then 3 bytes a component of
// which the second holds its horizontal and vertical sampling factors.
func readFrame(seg []byte, progressive bool) (frame, bool) {
	if len(seg) < 6 {
		return frame{}, false
	}
	n := int(seg[5])
	if n == 0 || len(seg) < 6+3*n {
		return frame{}, false
	}

	h, v := make([]int, n), make([]int, n)
	hMost, vMost := 1, 1
	for i := range n {
		hv := seg[6+3*i+1]
		h[i], v[i] = max(int(hv>>4), 1), max(int(hv&0x0f), 1)
		hMost, vMost = max(hMost, h[i]), max(vMost, v[i])
	}

	// A component sampled h times across and v times down, of the most
	// any has, has h×v/(most across × most down) samples a pixel.
	f := frame{progressive: progressive, components: n}
	for i := range n {
		f.samples += float64(h[i]*v[i]) / float64(hMost*vMost)
	}
	return f, true
}

// article puts "a" or "an" before the name of a kind.
func article(name string) string {
	if strings.HasPrefix(name, "interlaced") {
		return "an " + name
	}
	return "a " + name
}

// megapixels writes n pixels as megapixels with at most one decimal.
func megapixels(n int64) string {
	return strings.TrimSuffix(fmt.Sprintf("%.1f", float64(n)/1e6), ".0")
}
