# The README's commands. `make test` starts the MongoDB-wire test server it needs itself.

# `make run` accepts this secret unless OPENHANDS_WEBHOOK_SECRET is already set.
DEV_SECRET := local-dev-secret

.PHONY: run test lint

run:
	OPENHANDS_WEBHOOK_SECRET="$${OPENHANDS_WEBHOOK_SECRET:-$(DEV_SECRET)}" cargo run --bin webhook-api

test:
	scripts/with-test-mongodb.sh cargo test --workspace

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

# The container image (needs Docker with BuildKit); see docker/compose.yaml to run it with MongoDB.
.PHONY: docker
docker:
	docker build -f docker/Dockerfile -t openhands-key-webhook .

# Release-build load test with wrk (in-memory and MongoDB stores); results in BENCHMARKS.md.
.PHONY: bench
bench:
	scripts/bench.sh
