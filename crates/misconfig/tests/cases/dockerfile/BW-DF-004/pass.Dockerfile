FROM golang:1.22@sha256:0b0e4c0b5b7c5a9b3d1e0f2a4c6e8a0b2d4f6a8c0e2a4c6e8a0b2d4f6a8c0e2a AS build
FROM scratch
COPY --from=build /app /app
