# Leakwatch production image: the services only (no local stack, simulator, benchmarks or tests).
#   docker build -t leakwatch .
#   docker run leakwatch                        # the monitor
#   docker run leakwatch leakwatch leaks list   # operator commands of the CLI
FROM node:20-bookworm-slim AS build
WORKDIR /src
RUN npm install -g pnpm@10.34.8
COPY . .
RUN pnpm install --frozen-lockfile && pnpm build
# `pnpm deploy --prod` copies the CLI with its production dependencies only (the monitor among
# them): tools/ are devDependencies of the CLI and stay out, so development commands say so.
RUN pnpm --filter @leakwatch/cli deploy --prod --legacy /app \
  && find /app -name '*.tsbuildinfo' -delete \
  && chmod +x /app/dist/main.js

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
# the container's own interface: the port is reachable only where it is published
ENV LEAKWATCH_HTTP_HOST=0.0.0.0
COPY --from=build /app /app
RUN ln -s /app/dist/main.js /usr/local/bin/leakwatch
USER node
# node itself is PID 1 and handles SIGTERM: `docker stop` drains, commits and exits 0.
CMD ["node", "--max-semi-space-size=64", "node_modules/@leakwatch/monitor-service/dist/main.js"]
