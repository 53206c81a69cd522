// Package totpvault holds what the whole program shares as data: the HTTP
// contract as OpenAPI.
package totpvault

import _ "embed"

// APISpec is api.yaml, the OpenAPI 3.1 description of the HTTP contract that
// the server serves at GET /openapi.yaml and validates itself against in tests.
//
//go:embed api.yaml
var APISpec []byte
