# erpsync — see README.md. Needs Go and gcc (go-sqlite3 is cgo), nothing else.
GO ?= go

.PHONY: run test bench build fuzz clean

# The main job on the embedded simulator.
run:
	$(GO) run ./cmd/erpsync demo

# What CI runs: vet, then every test with the race detector.
test:
	$(GO) vet ./...
	$(GO) test -race ./...

# Benchmarks only (no unit tests), with allocation figures.
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# Binaries into bin/.
build:
	$(GO) build -o bin/ ./cmd/...

clean:
	rm -rf bin
