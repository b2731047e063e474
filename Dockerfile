# Leakwatch production image: the services only (no local stack, simulator, benchmarks or tests).
#   docker build -t leakwatch .
#   docker run leakwatch                      # the monitor
#   docker run leakwatch node dist/main.js leaks list   # the CLI's operator commands
FROM node:20-bookworm-slim AS build
WORKDIR /src
RUN npm install -g pnpm@10.34.8
COPY . .
RUN pnpm install --frozen-lockfile && pnpm build
# `pnpm deploy --prod` copies the CLI with its production dependencies only: tools/ are
# devDependencies of the CLI and are left out, so development commands say so and stop.
RUN pnpm --filter @leakwatch/cli deploy --prod --legacy /app \
  && find /app -name '*.tsbuildinfo' -delete

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app /app
USER node
# node is PID 1 and handles SIGTERM itself: `docker stop` drains, commits and exits 0.
CMD ["node", "--max-semi-space-size=64", "dist/main.js", "monitor"]
