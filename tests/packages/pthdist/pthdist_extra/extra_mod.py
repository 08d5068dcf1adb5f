FOUND = True
