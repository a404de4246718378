# The Gantry worker and CLI. git is needed by the gitops deploy target, openssh-client by config
# repos reached over SSH (git@host:org/repo.git).
FROM node:24-bookworm-slim
RUN apt-get update \
  && apt-get install -y --no-install-recommends git openssh-client ca-certificates \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /gantry
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build
# The worker's data (file audit log when GANTRY_AUDIT_URL is unset, git work trees) lives in a
# volume so it survives the container; the audit key folder is a separate mount (a secret).
RUN mkdir -p /var/lib/gantry /run/gantry-audit-key /run/gantry-codec && chown node:node /var/lib/gantry /run/gantry-audit-key /run/gantry-codec
ENV GANTRY_DATA_DIR=/var/lib/gantry
VOLUME ["/var/lib/gantry"]
USER node
# The worker's Worker Versioning build id (README "Upgrading Gantry"): --build-arg GANTRY_BUILD_ID=...,
# else <package version>+<git commit> from the copied .git.
ARG GANTRY_BUILD_ID=
ENV GANTRY_BUILD_ID=${GANTRY_BUILD_ID}
ENTRYPOINT ["/gantry/bin/gantry"]
CMD ["worker"]
