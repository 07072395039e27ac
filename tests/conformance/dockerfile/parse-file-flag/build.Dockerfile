FROM alpine AS build
RUN make
