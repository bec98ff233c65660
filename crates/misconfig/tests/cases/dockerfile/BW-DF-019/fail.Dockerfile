FROM debian:12
RUN curl -fsSL https://get.example.com | sh
RUN wget -qO- https://x.example/install.sh | sudo bash -s -- --yes
RUN sh -c "$(curl -fsSL https://raw.example.com/install.sh)"
