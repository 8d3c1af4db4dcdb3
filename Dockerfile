# syntax=docker/dockerfile:1
# The worker image (the default target): compiled JavaScript, production dependencies only, the
# workflow bundle built here (no webpack at start-up), running as the unprivileged `node` user. The
# same image runs the CLI (`node dist/src/cli/main.js`). The demo's CCS simulator is its own target,
# `simulator`: it needs a development-only certificate library that the worker image does not carry.

ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx tsc -p tsconfig.build.json \
 && node dist/src/dev/bundle-workflows.js /app/workflow-bundle.js

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# The CCS simulator for demos (docker compose --profile demo): never part of a production deployment.
FROM ${NODE_IMAGE} AS simulator
WORKDIR /app
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
COPY --chown=root:root package.json ./
RUN mkdir -p /data/sim && chown node:node /data/sim
USER node
EXPOSE 12431
CMD ["node", "dist/src/sim/cli.js", "--host", "0.0.0.0", "--port", "12431", "--tls-dir", "/data/sim"]

# Debian slim, not Alpine: the Temporal SDK's native core is built for glibc.
FROM ${NODE_IMAGE} AS worker
# The commit this image is built from (`--build-arg CCS_BUILD_COMMIT=$(git rev-parse --short HEAD)`;
# compose passes it): the worker's build id is <package version>+<commit>, and every build id is its
# own Worker Deployment Version (docs/operations.md, "Versioned deploys"). Empty: `+dev`.
ARG CCS_BUILD_COMMIT=
# Health and metrics listen on loopback unless configured: set HEALTH_BIND_ADDRESS=0.0.0.0:8080 and
# METRICS_BIND_ADDRESS=0.0.0.0:9464 where probes and Prometheus must reach them (docker-compose.yml does,
# on its private network). Neither carries secrets; /readyz names error types only.
ENV NODE_ENV=production \
    WORKFLOW_BUNDLE_PATH=/app/workflow-bundle.js \
    METRICS_BIND_ADDRESS=127.0.0.1:9464 \
    HEALTH_BIND_ADDRESS=127.0.0.1:8080 \
    LOG_LEVEL=INFO \
    EVIDENCE_DIR=/var/lib/ccs-evidence \
    CCS_BUILD_COMMIT=${CCS_BUILD_COMMIT}
WORKDIR /app
COPY --from=deps --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
COPY --from=build --chown=root:root /app/workflow-bundle.js /app/workflow-bundle.encoded-failures.js ./
COPY --chown=root:root package.json ./
# The evidence chain: mount a volume here (compose does) so it outlives the container.
RUN mkdir -p /var/lib/ccs-evidence && chown node:node /var/lib/ccs-evidence
USER node
EXPOSE 8080 9464
# Liveness: the process serves and its worker has not failed. Readiness (/readyz) is for orchestrators.
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/livez').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
STOPSIGNAL SIGTERM
CMD ["node", "dist/src/worker.js"]
