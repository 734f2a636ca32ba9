# syntax=docker/dockerfile:1
#
# One image for every service (config, ingest, aggregator, web). The entrypoint is `node`;
# the command picks the service, e.g.
#   docker run --rm cvd-pipeline services/aggregator/dist/main.js
# docker-compose.yml builds this image once and starts each service with its command.

# Pinned base image (Debian 12 "bookworm", Node 20 LTS).
ARG NODE_IMAGE=node:20.19-bookworm-slim

# ---------------------------------------------------------------------------------------
# build: full dependency tree, TypeScript build of every workspace, then production deps.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV CI=true \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    TURBO_TELEMETRY_DISABLED=1
COPY . .
RUN npm ci --no-audit --no-fund
RUN npx turbo run build --output-logs=errors-only
# Replace node_modules with the production dependencies only (workspace links included).
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts
# Stage what the runtime needs: manifests, dist/ (without tests), static assets and any
# workspace-local node_modules (version conflicts npm could not hoist).
RUN set -eu; \
    mkdir -p /out; \
    cp package.json package-lock.json /out/; \
    cp -a node_modules /out/node_modules; \
    for dir in packages/* services/*; do \
      [ -f "$dir/package.json" ] || continue; \
      mkdir -p "/out/$dir"; \
      cp "$dir/package.json" "/out/$dir/"; \
      for sub in dist public bin node_modules; do \
        if [ -e "$dir/$sub" ]; then cp -a "$dir/$sub" "/out/$dir/"; fi; \
      done; \
    done; \
    find /out/packages /out/services -path '*/node_modules' -prune -o \
      \( -name '*.test.js' -o -name '*.test.js.map' -o -name '*.test.d.ts' -o -name '*.test.d.ts.map' -o -name '.tsbuildinfo' \) \
      -type f -print | xargs -r rm -f; \
    mkdir -p /out/config; \
    cp config/symbols.yaml /out/config/symbols.yaml

# ---------------------------------------------------------------------------------------
# runtime: node, production node_modules and every package's dist/, as the non-root `node`.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false
WORKDIR /app
# Files stay root-owned (read-only for the service user); nothing writes inside /app.
COPY --from=build /out/ /app/
USER node
# Ops ports: ingest 9464, config 9465 (+ admin API 8081), aggregator 9466, web 8080.
EXPOSE 8080 8081 9464 9465 9466
ENTRYPOINT ["node"]
# No default service: name one, e.g. `services/ingest/dist/main.js`.
CMD ["-e", "console.error('usage: docker run <image> services/<config|ingest|aggregator|web>/dist/main.js'); process.exit(64)"]
