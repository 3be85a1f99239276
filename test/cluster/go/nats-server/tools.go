//go:build tools

// Keeps the built command in go.mod/go.sum; build.sh builds the package named in ./package.
package tools

import _ "github.com/nats-io/nats-server/v2"
