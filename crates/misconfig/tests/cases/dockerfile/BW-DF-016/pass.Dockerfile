FROM node:20-slim
RUN npm ci
RUN npm install
RUN npm install -g typescript@5.4.5 @angular/cli@17.3.0 git+https://github.com/x/y.git#v1.0.0
