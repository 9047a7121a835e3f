"""Reading what Dockerfiles and .dockerignore files say, as BuildKit reads them."""
