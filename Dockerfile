# The Gantry worker and CLI. git is needed by the gitops deploy target.
FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends git ca-certificates && rm -rf /var/lib/apt/lists/*
WORKDIR /gantry
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build
# The worker's Worker Versioning build id (README "Upgrading Gantry"): --build-arg GANTRY_BUILD_ID=...,
# else <package version>+<git commit> from the copied .git.
ARG GANTRY_BUILD_ID=
ENV GANTRY_BUILD_ID=${GANTRY_BUILD_ID}
ENTRYPOINT ["/gantry/bin/gantry"]
CMD ["worker"]
