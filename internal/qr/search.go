package qr

import (
	"context"
	"errors"
	"image"
	"image/color"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// A pass is one way of looking for a code in the grey pixels of an image.
type pass struct {
	name string
	scan func(context.Context, *image.Gray) (string, error)
}

// passes are tried in order until one finds a code. The first reads every
// image in testdata; each later one is there because an image made in
// TestSearchPasses needs it, and runs only when those before it failed.
var passes = []pass{
	// Thresholds each region by its own neighbourhood: screenshots with
	// shadows and gradients, and JPEG noise.
	{"local threshold", func(ctx context.Context, g *image.Gray) (string, error) {
		return read(ctx, gozxing.NewHybridBinarizer(source(g)))
	}},

	// Half size, each pixel the mean of four: large, noisy captures such as
	// a photograph of a screen, whose noise at full size breaks up the
	// finder patterns into specks.
	{"half size", func(ctx context.Context, g *image.Gray) (string, error) {
		if min(g.Rect.Dx(), g.Rect.Dy()) < 2*minCodeSide {
			return "", gozxing.NewNotFoundException("too small to halve")
		}
		return read(ctx, gozxing.NewHybridBinarizer(source(halve(g))))
	}},

	// One threshold for the whole image: a washed-out code whose light and
	// dark differ too little for the local threshold to tell them apart.
	{"global threshold", func(ctx context.Context, g *image.Gray) (string, error) {
		return read(ctx, gozxing.NewGlobalHistgramBinarizer(source(g)))
	}},

	// Light modules on a dark ground: dark-mode pages and apps.
	{"inverted", func(ctx context.Context, g *image.Gray) (string, error) {
		return read(ctx, gozxing.NewHybridBinarizer(gozxing.NewInvertedLuminanceSource(source(g))))
	}},
}

// minCodeSide is the side in pixels of the smallest QR code that can be read:
// version 1, 21 modules, one pixel each.
const minCodeSide = 21

// maxCandidates bounds the places a pass may take for a finder pattern (the
// squares in a code's corners) or an alignment pattern. The reader compares
// every three of them, so its time grows with the cube of their number: an
// image tiled with a thousand small squares, a few kilobytes as a PNG, would
// hold a CPU for hours. A pass that reads a code in the tests meets at most
// 44 of them; the noisiest test image makes a failing pass meet 158, and pure
// noise at MaxPixels over a thousand. A pass that meets more gives up.
const maxCandidates = 300

// errCrowded ends a pass that found more than maxCandidates finder patterns.
var errCrowded = errors.New("qr: too many finder pattern candidates")

// search tries each pass on pic and returns the text of the first code found
// and the name of the pass that found it. It gives up once ctx ends, between
// passes or at the next finder pattern within one. When no pass finds a
// code, the error wraps ErrNoCode.
func search(ctx context.Context, pic image.Image) (text, by string, err error) {
	// From here on only g is used, so that the collector may take back
	// pic, the largest thing a decode holds, while the passes run.
	g := grey(pic)
	seen := false
	for _, p := range passes {
		if err := ctx.Err(); err != nil {
			return "", "", err
		}

		text, err := p.scan(ctx, g)
		if err == nil {
			return text, p.name, nil
		}
		seen = seen || unreadable(err)
	}
	return "", "", notFound(g.Rect, seen)
}

// unreadable reports whether err says that a pass found a code but could not
// read it, rather than finding none or being stopped.
func unreadable(err error) bool {
	var notFound gozxing.NotFoundException
	return !errors.As(err, &notFound) && !errors.Is(err, errCrowded) &&
		!errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

// notFound explains what the passes found: nothing like a code, or a code
// that could not be read.
func notFound(b image.Rectangle, seen bool) error {
	if seen {
		return refuse(ErrNoCode,
			"something like a QR code was found in the %d×%d image but could not be read; "+
				"send a sharper or larger image of the code", b.Dx(), b.Dy())
	}
	return refuse(ErrNoCode,
		"no QR code was found in the %d×%d image; send an image in which "+
			"the whole code is visible and sharp, or crop it around the code", b.Dx(), b.Dy())
}

// stopPass is what a watcher panics with to end a pass early: gozxing has no
// other way to stop a decode under way.
type stopPass struct{ err error }

// read runs the QR reader on the image that binarizer makes black and white.
// It looks hard, since a screenshot holds much besides the code, and reads a
// code without a character-set marker as UTF-8, as URIs are. It gives up with
// errCrowded, or ctx's error, when a watcher stops it.
func read(ctx context.Context, binarizer gozxing.Binarizer) (text string, err error) {
	defer func() {
		if r := recover(); r != nil {
			stop, ok := r.(stopPass)
			if !ok {
				panic(r) // not ours: find turns it into an error
			}
			text, err = "", stop.err
		}
	}()

	w := &watcher{ctx: ctx}
	hints := map[gozxing.DecodeHintType]any{
		gozxing.DecodeHintType_TRY_HARDER:                 true,
		gozxing.DecodeHintType_CHARACTER_SET:              "UTF-8",
		gozxing.DecodeHintType_NEED_RESULT_POINT_CALLBACK: gozxing.ResultPointCallback(w.see),
	}
	bmp, err := gozxing.NewBinaryBitmap(binarizer)
	if err != nil {
		return "", err
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, hints)
	if err != nil {
		return "", err
	}
	return res.GetText(), nil
}

// A watcher is told of each new place the reader takes for a finder or
// alignment pattern, and stops the pass when there are too many or ctx has
// ended: the one point at which gozxing calls back during a decode.
type watcher struct {
	ctx   context.Context
	found int
}

func (w *watcher) see(gozxing.ResultPoint) {
	w.found++
	if w.found > maxCandidates {
		panic(stopPass{errCrowded})
	}
	if err := w.ctx.Err(); err != nil {
		panic(stopPass{err})
	}
}

// grey returns pic's luminance, with transparent pixels shown on white as
// image viewers show them, so that a code drawn on a transparent ground stays
// dark on light. The common kinds of image are converted without a call per
// pixel, which keeps a large screenshot well within DecodeTimeout.
func grey(pic image.Image) *image.Gray {
	b := pic.Bounds()
	g := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	switch p := pic.(type) {
	case *image.Gray:
		for y := 0; y < b.Dy(); y++ {
			copy(g.Pix[y*g.Stride:][:b.Dx()], p.Pix[p.PixOffset(b.Min.X, b.Min.Y+y):])
		}
	case *image.YCbCr:
		// Y is the luminance already.
		for y := 0; y < b.Dy(); y++ {
			copy(g.Pix[y*g.Stride:][:b.Dx()], p.Y[p.YOffset(b.Min.X, b.Min.Y+y):])
		}
	case *image.Paletted:
		greyPaletted(g, p)
	case *image.RGBA:
		greyRGBA(g, p)
	case *image.NRGBA:
		greyNRGBA(g, p)
	default:
		greyAny(g, pic)
	}
	return g
}

// greyPaletted converts through the palette, once per colour.
func greyPaletted(g *image.Gray, p *image.Paletted) {
	var lum [256]uint8
	for i, c := range p.Palette {
		lum[i] = onWhite(c)
	}
	b := p.Bounds()
	for y := 0; y < b.Dy(); y++ {
		row := p.Pix[p.PixOffset(b.Min.X, b.Min.Y+y):][:b.Dx()]
		for x, i := range row {
			g.Pix[y*g.Stride+x] = lum[i]
		}
	}
}

// greyRGBA converts the premultiplied pixels that most PNGs with colour
// decode to.
func greyRGBA(g *image.Gray, p *image.RGBA) {
	b := p.Bounds()
	for y := 0; y < b.Dy(); y++ {
		row := p.Pix[p.PixOffset(b.Min.X, b.Min.Y+y):][:4*b.Dx()]
		for x := 0; x < b.Dx(); x++ {
			r, gr, bl, a := uint32(row[4*x]), uint32(row[4*x+1]), uint32(row[4*x+2]), uint32(row[4*x+3])
			g.Pix[y*g.Stride+x] = uint8((r+2*gr+bl)/4 + 255 - a)
		}
	}
}

// greyNRGBA converts the straight-alpha pixels that PNGs with transparency
// decode to.
func greyNRGBA(g *image.Gray, p *image.NRGBA) {
	b := p.Bounds()
	for y := 0; y < b.Dy(); y++ {
		row := p.Pix[p.PixOffset(b.Min.X, b.Min.Y+y):][:4*b.Dx()]
		for x := 0; x < b.Dx(); x++ {
			r, gr, bl, a := uint32(row[4*x]), uint32(row[4*x+1]), uint32(row[4*x+2]), uint32(row[4*x+3])
			g.Pix[y*g.Stride+x] = uint8(((r+2*gr+bl)/4*a + 255*(255-a)) / 255)
		}
	}
}

// greyAny converts any other kind of image (16-bit, CMYK) a pixel at a time.
func greyAny(g *image.Gray, pic image.Image) {
	b := pic.Bounds()
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			g.Pix[y*g.Stride+x] = onWhite(pic.At(b.Min.X+x, b.Min.Y+y))
		}
	}
}

// onWhite is c's luminance when drawn on white, on the scale 0..255.
func onWhite(c color.Color) uint8 {
	r, g, b, a := c.RGBA()
	return uint8(((r+2*g+b)/4 + 0xffff - a) >> 8)
}

// halve returns g at half its width and height, each pixel the mean of four.
func halve(g *image.Gray) *image.Gray {
	w, h := g.Rect.Dx()/2, g.Rect.Dy()/2
	out := image.NewGray(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		top, bottom := g.Pix[2*y*g.Stride:], g.Pix[(2*y+1)*g.Stride:]
		for x := 0; x < w; x++ {
			sum := int(top[2*x]) + int(top[2*x+1]) + int(bottom[2*x]) + int(bottom[2*x+1])
			out.Pix[y*out.Stride+x] = uint8(sum / 4)
		}
	}
	return out
}
