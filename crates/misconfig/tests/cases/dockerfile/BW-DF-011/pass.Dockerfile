FROM rockylinux:9
RUN yum install -y httpd-2.4.57 && yum clean all
RUN dnf -y install git && dnf clean all && rm -rf /var/cache/dnf
RUN microdnf install -y tar && microdnf clean all
