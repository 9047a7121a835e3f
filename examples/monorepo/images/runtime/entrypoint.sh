#!/bin/sh
echo "acme runtime on $(uname -m)"
exec "$@"
