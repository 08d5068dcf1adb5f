NAME = 'nsa'
