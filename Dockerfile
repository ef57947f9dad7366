# syntax=docker/dockerfile:1
# gpu-admission image: the compiled program on a distroless Node.js 22 runtime, as user 65532.
#   docker build -t ghcr.io/gpu-admission/gpu-admission:0.1.0 .
#   docker run --rm -p 8443:8443 ghcr.io/gpu-admission/gpu-admission:0.1.0
# (without --cert/--key it serves a development certificate made at start into /app/certs)

# Build: all dependencies, TypeScript -> dist/, then the esbuild bundle: dist/main.js + dist/chunks/
# (with source maps) hold the program and every dependency but @kubernetes/client-node.
FROM node:22-bookworm AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npm run build \
 && mkdir -p /out/certs

# Production dependencies only, installed apart so no dev tooling reaches the image; at run time
# only @kubernetes/client-node (with a cluster view) is loaded from node_modules.
FROM node:22-bookworm AS deps
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

# Runtime: no shell, no package manager; the nonroot variant's user is 65532.
FROM gcr.io/distroless/nodejs22-debian12:nonroot
ENV NODE_ENV=production
# A smaller young generation: ~25 MiB less resident memory, no measurable throughput cost (npm run bench).
ENV NODE_OPTIONS=--max-semi-space-size=4
WORKDIR /app
COPY --from=deps /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
COPY policies ./policies
# The one writable directory, for the development certificate of a plain `docker run`; in the
# cluster --cert/--key are given and the root filesystem is read-only.
COPY --from=build --chown=65532:65532 /out/certs ./certs
USER 65532:65532
EXPOSE 8443
ENTRYPOINT ["/nodejs/bin/node", "dist/main.js"]
CMD ["serve", "--policies", "/app/policies"]
