# syntax=docker/dockerfile:1
#
# The personalfinance backend image. Railway builds it (the Dockerfile at the upload's root;
# .railway/railway.ts has no builder field);
# by hand:
#   docker build -t personalfinance .
#   docker run --rm -p 8000:8000 -e API_TOKEN="$(openssl rand -hex 32)" \
#     -v personalfinance-data:/app/data personalfinance
#
# The SQLite database lives in /app/data (DATABASE_PATH below): that folder must be a volume,
# or the data dies with the container. On Railway the backend refuses to start unless it is
# (see backend/src/guard.rs); set DATABASE_URL to use PostgreSQL instead.
# backend/tests/it/deploy.rs checks this file against the workspace (no Docker engine needed).

############################################################ build
FROM rust:1-bookworm AS builder
# diesel's PostgreSQL driver links libpq; SQLite is compiled in (bundled), nothing to install.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src

# Dependencies first, in their own layers: rebuilt only when a manifest or Cargo.lock changes.
# The workspace's manifests with stub sources (build script, lib, binaries) ...
COPY Cargo.toml Cargo.lock ./
COPY backend/Cargo.toml backend/Cargo.toml
COPY crates/data-safety/Cargo.toml crates/data-safety/Cargo.toml
COPY crates/db-conn/Cargo.toml crates/db-conn/Cargo.toml
COPY crates/history-corpus/Cargo.toml crates/history-corpus/Cargo.toml
COPY crates/imports/Cargo.toml crates/imports/Cargo.toml
COPY crates/ledger/Cargo.toml crates/ledger/Cargo.toml
COPY crates/migration-engine/Cargo.toml crates/migration-engine/Cargo.toml
COPY crates/pf-data/Cargo.toml crates/pf-data/Cargo.toml
COPY crates/portfolio/Cargo.toml crates/portfolio/Cargo.toml
COPY crates/provider-sync/Cargo.toml crates/provider-sync/Cargo.toml
COPY crates/safe-fs/Cargo.toml crates/safe-fs/Cargo.toml
COPY crates/statements/Cargo.toml crates/statements/Cargo.toml
COPY crates/test-kit/Cargo.toml crates/test-kit/Cargo.toml
COPY xtask/Cargo.toml xtask/Cargo.toml
RUN mkdir -p backend/src xtask/src \
    && echo 'fn main() {}' > backend/src/main.rs \
    && touch backend/src/lib.rs \
    && echo 'fn main() {}' > xtask/src/main.rs \
    && for crate in crates/*/; do mkdir -p "${crate}src" && touch "${crate}src/lib.rs"; done \
    && echo 'fn main() {}' > crates/pf-data/build.rs
# ... compile every dependency of the backend package, then forget the stubs' own artefacts.
RUN cargo build --release -p backend --locked \
    && cargo clean --release -p backend -p data-safety -p db-conn -p history-corpus -p imports -p ledger -p migration-engine -p pf-data \
        -p portfolio -p provider-sync -p safe-fs -p statements \
    && rm -rf backend/src xtask/src crates

# The real sources (.dockerignore admits only the manifests, backend/, crates/, xtask/,
# migrations/).
COPY . .
RUN cargo build --release -p backend --locked \
    && install -m 0755 target/release/backend /usr/local/bin/backend \
    && backend --version

############################################################ runtime
FROM debian:bookworm-slim AS runtime
# ca-certificates: TLS to a managed PostgreSQL; libpq5: the only shared library the binary
# needs beyond glibc (checked with readelf by backend/tests/it/deploy.rs); postgresql-client:
# pg_dump/pg_restore/psql for `backend backup`/`restore` and the admin backup endpoint on a
# PostgreSQL deployment (they refuse a server newer than the client: keep the majors in step).
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates libpq5 postgresql-client \
    && rm -rf /var/lib/apt/lists/*

# A fixed non-root user; the data folder belongs to it. (Railway mounts volumes owned by root:
# set the service variable RAILWAY_RUN_UID=0 there, see README "Deploying".)
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin app
WORKDIR /app
RUN mkdir -p /app/data && chown app:app /app/data && chmod 0750 /app/data

COPY --from=builder /usr/local/bin/backend /usr/local/bin/backend

# DATABASE_PATH: the SQLite file, explicitly on the data folder (DATABASE_URL, when set, wins).
# PORT: the platform's value wins; 8000 is the backend's own default too.
ENV DATABASE_PATH=/app/data/personalfinance.db \
    HOST=0.0.0.0 \
    PORT=8000 \
    RUST_LOG=info

USER app:app
EXPOSE 8000
# Railway probes healthcheckPath (/health) itself; no curl in this image.
CMD ["backend", "serve"]
