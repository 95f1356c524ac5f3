# Builds the one binary and runs it; see docker-compose.yml.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin techmarket

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/techmarket /usr/local/bin/techmarket
COPY static /srv/static
ENV TECHMARKET_STATIC_DIR=/srv/static \
    TECHMARKET_ADDR=0.0.0.0:8080
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --retries=5 CMD curl -fsS http://127.0.0.1:8080/readyz || exit 1
ENTRYPOINT ["techmarket"]
CMD ["serve", "--demo"]
