FROM debian:12 AS build
CMD ["a"]
FROM debian:12
ENTRYPOINT ["x"]
CMD ["b"]
