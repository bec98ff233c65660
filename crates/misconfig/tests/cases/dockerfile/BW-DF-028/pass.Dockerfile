FROM debian:12
WORKDIR /app
WORKDIR $HOME
FROM mcr.microsoft.com/windows/servercore:ltsc2022
WORKDIR C:\\app
