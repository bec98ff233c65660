FROM golang:1.22 AS build
FROM build
FROM gcr.io/distroless/static:nonroot
