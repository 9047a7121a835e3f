#!/bin/sh
echo "migrating on $(uname -m)"
