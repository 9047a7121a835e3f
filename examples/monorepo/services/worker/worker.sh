#!/bin/sh
echo "worker: $(cat /app/shared/version)"
