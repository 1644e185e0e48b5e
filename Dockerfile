# One image for all six services. Build: docker build -t shop .   Run one: docker run shop products
#
# Stage 1 plans the dependency graph, stage 2 builds dependencies only (cached until Cargo.toml or
# Cargo.lock change), then the workspace; the runtime stage is slim and runs as a non-root user.
FROM rust:1-bookworm AS chef
RUN cargo install cargo-chef --locked --version 0.1.71
WORKDIR /app

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
COPY --from=planner /app/recipe.json recipe.json
RUN cargo chef cook --release --recipe-path recipe.json
COPY . .
RUN cargo build --release --locked \
      --bin gateway --bin products --bin orders --bin payments --bin order-history --bin identity

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tini \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 shop \
 && useradd --system --uid 10001 --gid 10001 --no-create-home shop \
 && install -d -o 10001 -g 10001 -m 0700 /var/lib/shop
COPY --from=builder /app/target/release/gateway /app/target/release/products /app/target/release/orders \
     /app/target/release/payments /app/target/release/order-history /app/target/release/identity /usr/local/bin/
USER 10001:10001
ENV LOG_FORMAT=json
ENTRYPOINT ["/usr/bin/tini", "--"]
