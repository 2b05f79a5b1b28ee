# skewfree image: the four binaries on debian:bookworm-slim.
#
#   docker build -t REGISTRY/skewfree:TAG .
#   docker run -p 8001:8001 -p 8002:8002 -v "$PWD/models:/models:ro" REGISTRY/skewfree:TAG
#
# The build stage runs the very scripts CI runs (scripts/install-deps.sh, then
# scripts/build.sh), so the image and the tests build the code one way.

FROM debian:bookworm-slim AS build
WORKDIR /src
# Dependencies first, so editing the sources does not reinstall packages.
# SKEWFREE_SKIP_DEPLOY_DEPS=1 leaves out promtool and node, which only the
# deploy checks need.
COPY scripts/install-deps.sh scripts/install-deps.sh
RUN SKEWFREE_SKIP_DEPLOY_DEPS=1 bash scripts/install-deps.sh \
    && rm -rf /var/lib/apt/lists/*
COPY . .
RUN bash scripts/build.sh --target skewfree-server skewfree-train skewfree-simulate skewfree-client \
    && strip build/bin/skewfree-server build/bin/skewfree-train build/bin/skewfree-simulate build/bin/skewfree-client

FROM debian:bookworm-slim AS runtime
# Only the shared libraries the binaries load (tests/deploy checks this list
# against ldd of the built binaries).
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        ca-certificates \
        libabsl20220623 \
        libgrpc++1.51 \
        libgrpc29 \
        libprometheus-cpp-core1.0 \
        libprometheus-cpp-pull1.0 \
        libprometheus-cpp-push1.0 \
        libprotobuf32 \
        libssl3 \
        zlib1g \
    && rm -rf /var/lib/apt/lists/*
# A fixed numeric uid, so Kubernetes' runAsNonRoot can verify it.
RUN groupadd --system --gid 10001 skewfree \
    && useradd --system --uid 10001 --gid skewfree --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin skewfree \
    && mkdir -p /models \
    && chown skewfree:skewfree /models
COPY --from=build /src/build/bin/skewfree-server /src/build/bin/skewfree-train /src/build/bin/skewfree-simulate /src/build/bin/skewfree-client /usr/local/bin/
USER 10001:10001
# The model repository: <model>/<version>/ bundles written by skewfree-train.
VOLUME ["/models"]
# 8001: gRPC (Open Inference Protocol, grpc.health.v1); 8002: Prometheus /metrics.
EXPOSE 8001 8002
# Six misses in a row (a minute) before "unhealthy" covers the first model load
# (no --start-period: dockerfilelint 1.8 rejects hyphenated options). With TLS
# on, override it with --tls_ca (see k8s/README.md).
HEALTHCHECK --interval=10s --timeout=3s --retries=6 \
    CMD ["skewfree-client", "--target", "127.0.0.1:8001", "health"]
CMD ["skewfree-server", "--model-repository=/models", "--address=0.0.0.0", "--port=8001", "--metrics-port=8002"]
