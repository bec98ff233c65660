ARG IMAGE=ubuntu
FROM ${IMAGE}
FROM nginx:latest AS web
FROM web
FROM ubuntu:24.04
