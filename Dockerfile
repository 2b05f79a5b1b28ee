# skewfree images on debian:bookworm-slim. The default (last) target, runtime,
# is the serving image: the four binaries, no sshd, no MPI.
#
#   docker build -t REGISTRY/skewfree:TAG .
#   docker run -p 8000:8000 -p 8001:8001 -p 8002:8002 -v "$PWD/models:/models:ro" REGISTRY/skewfree:TAG
#
# trainer-mpi is the trainer for the Kubeflow MPI Operator (k8s/overlays/mpi):
# skewfree-train, its Open MPI module, mpirun and a non-root sshd.
#
#   docker build --target trainer-mpi -t REGISTRY/skewfree-mpi:TAG .
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
RUN bash scripts/build.sh --target skewfree-server skewfree-train skewfree-simulate skewfree-client skewfree_mpi \
    && strip build/bin/skewfree-server build/bin/skewfree-train build/bin/skewfree-simulate build/bin/skewfree-client \
    && strip --strip-unneeded build/lib/skewfree/libskewfree_mpi.so

# What both images share: the runtime libraries and the skewfree user.
FROM debian:bookworm-slim AS libs
# Only the shared libraries the binaries load (tests/deploy checks this list
# against ldd of the built binaries).
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        ca-certificates \
        libabsl20220623 \
        libevent-core-2.1-7 \
        libevent-extra-2.1-7 \
        libevent-openssl-2.1-7 \
        libevent-pthreads-2.1-7 \
        libgrpc++1.51 \
        libgrpc29 \
        libprometheus-cpp-core1.0 \
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

# The MPIJob trainer (launcher and workers). The MPI Operator starts ranks over
# ssh: Open MPI's mpirun and orted, the runtime library the trainer's module
# links (libmpi, tests/deploy checks it with ldd), and sshd run as uid 10001
# on port 2222 with the job's key (k8s/overlays/mpi/ssh/).
FROM libs AS trainer-mpi
# No host keys in the image: each job's generated key serves as host key.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libopenmpi3 \
        openmpi-bin \
        openssh-server \
    && rm -rf /var/lib/apt/lists/* /etc/ssh/ssh_host_*
# sshd runs the launcher's commands with the user's shell, and the operator
# mounts the key pair at sshAuthMountPath, /home/skewfree/.ssh.
RUN usermod --home /home/skewfree --shell /bin/sh skewfree \
    && mkdir -p /home/skewfree/.ssh \
    && chown -R skewfree:skewfree /home/skewfree
COPY k8s/overlays/mpi/ssh/sshd_config /etc/skewfree/mpi/sshd_config
COPY k8s/overlays/mpi/ssh/ssh_config /etc/ssh/ssh_config.d/skewfree-mpi.conf
COPY --from=build /src/build/bin/skewfree-train /usr/local/bin/
# skewfree-train loads its Open MPI module from <binary dir>/../lib/skewfree/.
COPY --from=build /src/build/lib/skewfree/libskewfree_mpi.so /usr/local/lib/skewfree/
USER 10001:10001
WORKDIR /home/skewfree
# 2222: sshd (workers); 8003: the trainer's /metrics (rank 0).
EXPOSE 2222 8003
# A worker, as the MPIJob runs it; the launcher's command is mpirun.
CMD ["/usr/sbin/sshd", "-De", "-f", "/etc/skewfree/mpi/sshd_config"]

# The serving image, last so that a plain `docker build .` builds it.
FROM libs AS runtime
COPY --from=build /src/build/bin/skewfree-server /src/build/bin/skewfree-train /src/build/bin/skewfree-simulate /src/build/bin/skewfree-client /usr/local/bin/
USER 10001:10001
# The model repository: <model>/<version>/ bundles written by skewfree-train.
VOLUME ["/models"]
# 8000: HTTP/JSON (the same protocol, KServe v2 REST); 8001: gRPC (Open
# Inference Protocol, grpc.health.v1); 8002: Prometheus /metrics.
EXPOSE 8000 8001 8002
# Six misses in a row (a minute) before "unhealthy" covers the first model load
# (no --start-period: dockerfilelint 1.8 rejects hyphenated options). With TLS
# on, override it with --tls_ca (see k8s/README.md).
HEALTHCHECK --interval=10s --timeout=3s --retries=6 \
    CMD ["skewfree-client", "--target", "127.0.0.1:8001", "health"]
CMD ["skewfree-server", "--model-repository=/models", "--address=0.0.0.0", "--http-port=8000", "--port=8001", "--metrics-port=8002"]
