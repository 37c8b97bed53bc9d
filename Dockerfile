# syntax=docker/dockerfile:1
# metalflow's one image, two commands: `node bin/metalflow.js region` (the default) and
# `node bin/metalflow.js rack`, the processes the HA tests run. Everything is installed and built here, at image build time:
# the container only runs node.
#
#   docker buildx build -t metalflow --allow security.insecure .          # with the real Debian image
#   docker build -t metalflow --build-arg DEBIAN_IMAGE=none .             # unprivileged, without it
#
# The real Debian image (images/debian/build.sh) is made with mmdebstrap's root mode, which mounts
# /proc, /sys and /dev inside the image it builds: that needs privileges a build step does not have
# unless the builder allows the `security.insecure` entitlement (buildx --allow security.insecure;
# compose: build.entitlements, as docker-compose.yml asks). DEBIAN_IMAGE=none leaves it out: the
# rack then serves the ephemeral environment (enlist, commission, erase) and boot-resources lists no
# real image until one is put under build/boot/images/rootfs/ (e.g. a volume built on the host).
ARG NODE_IMAGE=node:20-bookworm
ARG NODE_RUNTIME_IMAGE=node:20-bookworm-slim
ARG DEBIAN_IMAGE=build

# --- npm dependencies, exactly the lock file's (npm ci refuses a lock that disagrees) -------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /srv/metalflow
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

# --- the ephemeral environment (kernel + busybox initramfs): unprivileged -------------------------
FROM debian:bookworm AS ephemeral
ENV DEBIAN_FRONTEND=noninteractive
# What images/ephemeral/build.sh builds from (scripts/bootstrap.mjs installs the same on a host).
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends \
      ca-certificates busybox-static cpio gcc libc6-dev make curl lshw \
      bash coreutils util-linux fdisk e2fsprogs dosfstools tar mtools gzip xz-utils zstd
WORKDIR /srv/metalflow
COPY images/ephemeral/ images/ephemeral/
COPY images/installer/ images/installer/
COPY src/api/run-scripts/maas-run-scripts.sh src/api/run-scripts/maas-run-scripts.sh
RUN bash images/ephemeral/build.sh

# --- the real Debian image: privileged (mmdebstrap --mode=root), or none ---------------------------
FROM ephemeral AS boot-none

FROM ephemeral AS boot-build
RUN apt-get install -y -qq --no-install-recommends mmdebstrap jq
COPY images/debian/ images/debian/
RUN --security=insecure bash images/debian/build.sh

FROM boot-${DEBIAN_IMAGE} AS boot

# --- runtime: node, the sources (run through tsx), the boot root, the tools the processes call ----
FROM ${NODE_RUNTIME_IMAGE} AS runtime
ENV DEBIAN_FRONTEND=noninteractive
# iproute2: the rack reads its interfaces with `ip -j addr`; ipxe: the TFTP loaders the rack copies
# into its boot root; ipmitool: the ipmi power driver; bind9 + bind9-utils: the region's DNS server.
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends \
      ca-certificates iproute2 ipxe ipmitool bind9 bind9-utils \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /srv/metalflow
COPY --from=deps /srv/metalflow/node_modules/ node_modules/
COPY package.json package-lock.json tsconfig.json ./
COPY bin/ bin/
COPY src/ src/
COPY --from=boot /srv/metalflow/build/boot/ build/boot/
# Node flags of every metalflow process (src/runtime/node-flags.ts says why).
ENV NODE_OPTIONS=--max-semi-space-size=4
ENV METALFLOW_STATE_DIR=/var/lib/metalflow \
    METALFLOW_BOOT_ROOT=/srv/metalflow/build/boot
VOLUME /var/lib/metalflow
# 5240 region API, 53 region DNS; rack: 67/udp DHCP, 69/udp TFTP, 5248 HTTP boot.
EXPOSE 5240 53/udp 53/tcp 67/udp 69/udp 5248
CMD ["node", "bin/metalflow.js", "region"]
