# The site's static files, as a stage of their own (no RUN: nothing runs under emulation).
FROM scratch AS assets
COPY static/ /assets/
