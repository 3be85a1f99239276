# syntax=docker/dockerfile:1
# One image, three programs (see operator/cmd/worker/README.md, "Container image"). Each program is
# operator/cmd/<program>/main.ts; the paths below are the stable shims that import them, which the
# chart, the operator's Jobs and Deployments and existing pod templates name:
#   sync worker (default): operator/worker/main.ts (cmd/worker); the operator's Jobs pass only arguments, e.g.
#                          --integration clinic/accuro --type Full --run accuro-full-29000000
#   operator:              command: ["/nodejs/bin/node", "operator/main.ts"] (cmd/operator; the chart's Deployment)
#   relay:                 command: ["/nodejs/bin/node", "operator/relay/main.ts"] (cmd/relay; RELAY_COMMAND, the operator's relay Deployments)
# The local cluster builds the same image without a Docker engine: test/image/build.sh (`make image`),
# from test/image/spec.json; test/unit/image-spec.test.ts checks this file against that spec.
# Node 24 runs the TypeScript sources directly (type stripping): there is no build step, only the
# production dependencies are installed. The runtime image has no shell and no package manager and
# runs as uid/gid 65532. Pin both images by digest in a release pipeline.
ARG BUILD_IMAGE=node:24-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs24-debian12:nonroot

FROM ${BUILD_IMAGE} AS build
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
# --omit=dev drops vitest, typescript and the pinned `node` package (the image brings its own Node);
# no dependency of the runtime needs an install script.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY operator/ ./operator/
# Tests and their helpers are not part of the image.
RUN find operator \( -name '*.test.ts' -o -name 'test-helpers.ts' \) -delete

FROM ${RUNTIME_IMAGE}
LABEL org.opencontainers.image.title="cloudconnect-operator" \
      org.opencontainers.image.description="Cloud Connect operator and sync worker (Ocean Cloud Connect as Kubernetes resources)" \
      org.opencontainers.image.licenses="Apache-2.0"
WORKDIR /app
ENV NODE_ENV=production
# Owned by root and read-only to the process: the code cannot be modified at run time
# (the Pod also sets readOnlyRootFilesystem).
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/operator ./operator
USER 65532:65532
ENTRYPOINT ["/nodejs/bin/node", "operator/worker/main.ts"]
