# The Gantry worker and CLI. git is needed by the gitops deploy target.
FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends git ca-certificates && rm -rf /var/lib/apt/lists/*
WORKDIR /gantry
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build
ENTRYPOINT ["/gantry/bin/gantry"]
CMD ["worker"]
