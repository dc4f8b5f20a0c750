//go:build tools

// Keeps the pinned stripe-mock in go.mod and go.sum (`go mod tidy` would drop an unused require).
package tools

import _ "github.com/stripe/stripe-mock"
