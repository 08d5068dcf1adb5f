"""Says where it was imported from, so the output names the __pypackages__ that applied."""

print("marker from", __file__)
