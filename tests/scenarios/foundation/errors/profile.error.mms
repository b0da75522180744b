machine kernel=6.13.0
