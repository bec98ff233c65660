FROM rockylinux:9
RUN yum install -y httpd-2.4.57
RUN dnf -y install git && echo done
