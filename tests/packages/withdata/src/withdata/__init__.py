VALUE = "withdata"
