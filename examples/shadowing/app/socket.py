"""A module named like the standard library's, next to the script that imports it."""

print("the socket.py beside fetch.py runs")
