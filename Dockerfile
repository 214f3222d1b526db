# rentlink worker image. better-sqlite3 compiles from source on Node 20, so the build stage has a toolchain.
FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production DATABASE_PATH=/data/rentlink.db HTTP_HOST=0.0.0.0 HTTP_PORT=3000
COPY --from=build /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY jobs ./jobs
COPY migrations ./migrations
VOLUME ["/data"]
EXPOSE 3000
USER node
CMD ["node", "bin/rentlink.js", "start"]
