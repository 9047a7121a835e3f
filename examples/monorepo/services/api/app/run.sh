#!/bin/sh
cat /app/build-info /app/greeting
