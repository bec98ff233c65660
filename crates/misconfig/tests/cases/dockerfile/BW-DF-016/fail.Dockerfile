FROM node:20-slim
RUN npm install -g typescript @angular/cli@17.3.0
