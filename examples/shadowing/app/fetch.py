"""Imports two standard-library modules and says where each came from."""

import dataclasses
import socket

print("socket from", socket.__file__)
print("dataclasses from", dataclasses.__file__)
