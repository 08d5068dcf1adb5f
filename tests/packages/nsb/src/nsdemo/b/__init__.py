NAME = 'nsb'
