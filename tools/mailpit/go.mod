// Pins the Mailpit the local stack builds (src/oneenglish/stack/mailpit.py): the module's
// sources come from the Go module proxy, checked against go.sum. v1.27.11 is the newest
// release whose web UI (npm, package-lock.json) resolves from the npm registry served here;
// v1.33's lock names sass-embedded 1.108.1 and rapidoc 12, which it does not serve.
module github.com/oneenglish/backend/tools/mailpit

go 1.24

require github.com/axllent/mailpit v1.27.11
