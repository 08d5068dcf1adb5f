WHERE = "sdist"
