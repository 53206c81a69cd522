package qr

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// The texts that the fixtures in testdata were made from; README.md there
// gives the commands. The secret is RFC 6238's SHA-1 key, "12345678901234567890".
const (
	totpURI = "otpauth://totp/Contoso:alice@contoso.com" +
		"?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Contoso"
	hotpURI = "otpauth://hotp/Contoso:alice@contoso.com" +
		"?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Contoso&counter=0"
	migrationURI = "otpauth-migration://offline?data=" +
		"CkAKFDEyMzQ1Njc4OTAxMjM0NTY3ODkwEhlDb250b3NvOmFsaWNlQGNvbnRvc28uY29tGgdDb250b3NvIAEoATACEAEYASgq"
	urlText = "https://example.com/"
)

// utf8URI is a URI with UTF-8 that no one percent-encoded, as some
// providers' set-up pages show them.
const utf8URI = "otpauth://totp/Müller & Söhne:jörg?secret=GEZDGNBVGY3TQOJQ&issuer=Müller & Söhne"

// testdata returns the bytes of a fixture.
func testdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// pixels decodes a fixture to grey, as Decode sees it.
func pixels(t testing.TB, name string) *image.Gray {
	t.Helper()
	b := testdata(t, name)
	format, err := checkHeader(b)
	if err != nil {
		t.Fatal(err)
	}
	pic, err := decodePixels(b, format)
	if err != nil {
		t.Fatal(err)
	}
	return grey(pic)
}

// encodePNG is the PNG of img, made fast rather than small.
func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// tool returns the path of an external program that a test needs. When the
// program is missing, the test is skipped on a developer's machine but fails
// in CI (CI=true), which installs it, so that CI never passes by skipping.
func tool(t *testing.T, name, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not installed; CI must install the %s package", name, pkg)
	}
	t.Skipf("%s is not installed (apt-get install %s)", name, pkg)
	return ""
}

// run runs a program and returns its standard output.
func run(t *testing.T, path string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(path, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", filepath.Base(path), args, err, stderr.Bytes())
	}
	return out
}
