FROM debian:12
CMD ["a"]
ENTRYPOINT ["x"]
CMD ["b"]
ENTRYPOINT ["y"]
FROM debian:12
CMD ["c"]
