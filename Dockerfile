# One image holds both binaries; docker-compose.yml runs the worker from it
# and uses the starter for one-off commands.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -o /out/ ./starter ./worker

FROM gcr.io/distroless/static-debian12
COPY --from=build /out/starter /out/worker /usr/local/bin/
COPY examples /examples
ENTRYPOINT ["/usr/local/bin/worker"]
